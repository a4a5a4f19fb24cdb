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

# First: importing it selects asyncio for Autobahn (txaio) before anything else of Autobahn's is loaded.
from peer_session import run_scenario
from autobahn.wamp.serializer import JsonSerializer

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
    # Certificate and host name (here the IP address 127.0.0.1) are verified, as for any wss:// client.
    context = ssl.create_default_context(cafile=opts.cafile)

    async def call(session):
        result = await session.call(opts.procedure, *opts.args)
        tls = session._transport.transport.get_extra_info("ssl_object").version()
        emit(result=result, tls=tls)

    await run_scenario(opts.url, opts.realm, call, opts.seconds, JsonSerializer(), ssl_context=context)


try:
    asyncio.run(run())
    print("DONE", flush=True)
except Exception as e:  # noqa: BLE001
    emit(failure=repr(e))
    sys.exit(1)
