#!/usr/bin/python3
"""Autobahn|Python (asyncio) with one serializer, for the serializer interop tests, over WebSocket or RawSocket.
It subscribes to com.example.wire.events, registers com.example.wire.py_echo (answers with its args and kwargs),
prints "READY", calls com.example.wire.echo (the test's callee) with binary, text and numbers, prints
"ECHO <json>", waits for one event, prints "EVENT <json>", then "DONE". Binary values (bytes) print as
{"$bytes": "<hex>"}. Uses Debian's python3-autobahn with python3-msgpack and python3-cbor2.

Usage: /usr/bin/python3 wire.py --url ws://127.0.0.1:PORT/ --serializer json|msgpack|cbor [--realm realm1]
       /usr/bin/python3 wire.py --url rs://127.0.0.1:PORT --serializer ...        (RawSocket)
Every wait is bounded: the whole run stops after --seconds (default 20).
"""
import argparse
import asyncio
import json
import sys

from autobahn.asyncio.rawsocket import WampRawSocketClientProtocol
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CallResult

from peer_session import run_scenario

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--serializer", default="json")
parser.add_argument("--realm", default="realm1")
parser.add_argument("--seconds", type=float, default=20)
opts = parser.parse_args()

# Debian's Autobahn|Python 22.7.1: the asyncio RawSocket client protocol lacks the transport_details that
# ApplicationSession reads on WELCOME (AttributeError "While firing onWelcome"); the session needs none of it.
if not hasattr(WampRawSocketClientProtocol, "transport_details"):
    WampRawSocketClientProtocol.transport_details = None


def describe(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [describe(x) for x in v]
    if isinstance(v, dict):
        return {k: describe(x) for k, x in v.items()}
    return v


async def scenario(session):
    loop = asyncio.get_running_loop()
    event = loop.create_future()

    def on_event(*args, **kwargs):
        if not event.done():
            event.set_result({"args": describe(list(args)), "kwargs": describe(kwargs)})

    await session.subscribe(on_event, "com.example.wire.events")
    await session.register(lambda *args, **kwargs: CallResult(*args, **kwargs), "com.example.wire.py_echo")
    print("READY " + opts.serializer, flush=True)
    result = await session.call("com.example.wire.echo", bytes([0, 1, 2, 0x7f, 0x80, 0xff, 0]), "ü", 42, 1.5, None, True, [1, 2], bin=bytes([9, 8]))
    if isinstance(result, CallResult):
        r = {"args": list(result.results), "kwargs": result.kwresults}
    else:
        r = {"args": [result], "kwargs": {}}
    print("ECHO " + json.dumps(describe(r)), flush=True)
    print("EVENT " + json.dumps(await event), flush=True)


async def run():
    serializer = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}[opts.serializer]()
    await run_scenario(opts.url, opts.realm, scenario, opts.seconds, serializer)


try:
    asyncio.run(run())
    print("DONE", flush=True)
except Exception as e:  # noqa: BLE001
    print("FAILURE " + repr(e), flush=True)
    sys.exit(1)
