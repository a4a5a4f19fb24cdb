#!/usr/bin/python3
"""Autobahn|Python (asyncio) peer for the interop tests: runs one scenario against a router and prints
one JSON line per outcome, then "DONE". Uses Debian's python3-autobahn.

Usage: /usr/bin/python3 caller.py --url ws://127.0.0.1:PORT/ [--realm realm1] [AUTH] SCENARIO [options]
Authentication (Autobahn's own authenticators, autobahn.wamp.auth.create_authenticator):
  --authmethod ticket|wampcra|cryptosign --authid ID --secret SECRET   (for cryptosign, SECRET is the private key seed, hex)
A session the router refuses prints {"refused": REASON, "message": ...} and exits 0.
Scenarios:
  whoami                       print the session's authid, authrole, authmethod and authprovider
  get ID                       call com.example.conferences.get(ID)
  timeout MS TIMEOUT           call com.example.slow(MS) with CALL.Options.timeout = TIMEOUT
  cancel MODE                  call com.example.slow(30000), then CANCEL with MODE (skip|kill|killnowait) after 100 ms
  progress N                   call com.example.import(N) asking for progressive results
  repeat PROCEDURE N           call PROCEDURE N times, one after the other
  subscribe TOPIC N            print the first N events of TOPIC
Every wait is bounded: the whole run stops after --seconds (default 20).
"""
import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlparse

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth, message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import CallOptions, ComponentConfig

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--realm", default="realm1")
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("--authmethod")
parser.add_argument("--authid")
parser.add_argument("--secret")
parser.add_argument("scenario")
parser.add_argument("params", nargs="*")
opts = parser.parse_args()


def emit(**fields):
    print(json.dumps(fields), flush=True)


def error_fields(e):
    return {"error": e.error, "args": list(e.args), "kwargs": e.kwargs}


async def call_timed(session, procedure, *args, options=None):
    start = time.monotonic()
    try:
        result = await session.call(procedure, *args, options=options)
        return {"result": result, "elapsed_ms": round((time.monotonic() - start) * 1000)}
    except ApplicationError as e:
        return dict(error_fields(e), elapsed_ms=round((time.monotonic() - start) * 1000))


async def scenario(session):
    p = opts.params
    if opts.scenario == "whoami":
        d = session.join_details
        emit(authid=d.authid, authrole=d.authrole, authmethod=d.authmethod, authprovider=d.authprovider, session=d.session)
    elif opts.scenario == "get":
        emit(**await call_timed(session, "com.example.conferences.get", int(p[0])))
    elif opts.scenario == "timeout":
        emit(**await call_timed(session, "com.example.slow", int(p[0]), options=CallOptions(timeout=int(p[1]))))
    elif opts.scenario == "cancel":
        start = time.monotonic()
        pending = session.call("com.example.slow", 30000)
        request_id = max(session._call_reqs)
        await asyncio.sleep(0.1)
        # Autobahn|Python's own cancel sends no mode; send the CANCEL with the mode under test.
        session._transport.send(message.Cancel(request_id, mode=p[0]))
        try:
            result = await pending
            emit(result=result, elapsed_ms=round((time.monotonic() - start) * 1000))
        except ApplicationError as e:
            emit(**error_fields(e), elapsed_ms=round((time.monotonic() - start) * 1000))
    elif opts.scenario == "progress":
        progress = []
        result = await session.call("com.example.import", int(p[0]), options=CallOptions(on_progress=lambda *a, **k: progress.append(list(a))))
        emit(progress=progress, result=result)
    elif opts.scenario == "repeat":
        results = []
        for _ in range(int(p[1])):
            results.append(await session.call(p[0]))
        emit(results=results)
    elif opts.scenario == "subscribe":
        events = []
        done = asyncio.get_running_loop().create_future()

        def on_event(*args, **kwargs):
            events.append({"args": list(args), "kwargs": kwargs})
            if len(events) >= int(p[1]) and not done.done():
                done.set_result(None)

        await session.subscribe(on_event, p[0])
        emit(ready=True)
        await done
        # The first N: more may arrive between the future's result and this line.
        emit(events=events[:int(p[1])])
    else:
        raise ValueError(f"unknown scenario {opts.scenario}")


async def run():
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    authenticator = None
    if opts.authmethod:
        secret_key = {"ticket": "ticket", "wampcra": "secret", "cryptosign": "privkey"}[opts.authmethod]
        kwargs = {secret_key: opts.secret}
        if opts.authid:
            kwargs["authid"] = opts.authid
        authenticator = auth.create_authenticator(opts.authmethod, **kwargs)

    class Session(ApplicationSession):
        join_details = None

        def onConnect(self):
            if authenticator is None:
                return super().onConnect()
            self.join(self.config.realm, authmethods=[authenticator.name], authid=opts.authid, authextra=authenticator.authextra)

        def onChallenge(self, challenge):
            return authenticator.on_challenge(self, challenge)

        async def onJoin(self, details):
            self.join_details = details
            try:
                await scenario(self)
                if not finished.done():
                    finished.set_result(None)
            except Exception as e:  # noqa: BLE001 - reported to the test
                if not finished.done():
                    finished.set_exception(e)
            finally:
                self.leave()

        def onLeave(self, details):
            # Refused before joining (ABORT): report the reason; the refusal is the scenario's outcome.
            if self.join_details is None and not finished.done():
                emit(refused=details.reason, message=details.message)
                finished.set_result(None)
            super().onLeave(details)

        def onDisconnect(self):
            if not finished.done():
                finished.set_exception(ConnectionError("the transport closed before the scenario finished"))

    url = urlparse(opts.url)
    factory = WampWebSocketClientFactory(lambda: Session(ComponentConfig(opts.realm)), url=opts.url, serializers=[JsonSerializer()])
    transport, _ = await asyncio.wait_for(loop.create_connection(factory, url.hostname, url.port), 5)
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
