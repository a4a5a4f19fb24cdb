#!/usr/bin/python3
"""Autobahn|Python (asyncio) caller over wss:// for the TLS interop test: verifies the router's certificate
against --cafile (or the system's trust store without it), joins, calls PROCEDURE with ARGS, and prints one
JSON line with the result and the negotiated TLS version, then "DONE". Uses Debian's python3-autobahn.

Usage: /usr/bin/python3 tls_caller.py --url wss://127.0.0.1:PORT/ [--cafile CERT.pem] [--realm realm1] PROCEDURE [ARGS...]
Every wait is bounded: the whole run stops after --seconds (default 20).
"""
import argparse
import asyncio
import json
import ssl
import sys
from urllib.parse import urlparse

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--cafile")
parser.add_argument("--realm", default="realm1")
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("procedure")
parser.add_argument("args", nargs="*")
opts = parser.parse_args()


def emit(**fields):
    print(json.dumps(fields), flush=True)


async def run():
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    url = urlparse(opts.url)
    # Certificate and host name (here the IP address 127.0.0.1) are verified, as for any wss:// client.
    context = ssl.create_default_context(cafile=opts.cafile)

    class Session(ApplicationSession):
        async def onJoin(self, details):
            try:
                result = await self.call(opts.procedure, *opts.args)
                tls = self._transport.transport.get_extra_info("ssl_object").version()
                emit(result=result, tls=tls)
                if not finished.done():
                    finished.set_result(None)
            except Exception as e:  # noqa: BLE001 - reported to the test
                if not finished.done():
                    finished.set_exception(e)
            finally:
                self.leave()

        def onDisconnect(self):
            if not finished.done():
                finished.set_exception(ConnectionError("the transport closed before the call finished"))

    factory = WampWebSocketClientFactory(lambda: Session(ComponentConfig(opts.realm)), url=opts.url, serializers=[JsonSerializer()])
    transport, _ = await asyncio.wait_for(
        loop.create_connection(factory, url.hostname, url.port, ssl=context, server_hostname=url.hostname), 5)
    try:
        await asyncio.wait_for(finished, opts.seconds)
    finally:
        await asyncio.sleep(0.1)  # let GOODBYE go out
        transport.close()


try:
    asyncio.run(run())
    print("DONE", flush=True)
except Exception as e:  # noqa: BLE001
    emit(failure=repr(e))
    sys.exit(1)
