#!/usr/bin/python3
"""Checks a cryptosign AUTHENTICATE signature the way Autobahn and Crossbar.io check it: PyNaCl's Ed25519
VerifyKey over the signed message (signature followed by the challenge), the key loaded through Autobahn's
CryptosignKey. Prints VALID or INVALID.

Usage: /usr/bin/python3 verify_cryptosign.py PUBKEY_HEX CHALLENGE_HEX SIGNATURE_HEX
"""
import binascii
import sys

import txaio
txaio.use_asyncio()

from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402
from nacl.exceptions import BadSignatureError  # noqa: E402

pubkey, challenge, signature = (binascii.a2b_hex(x) for x in sys.argv[1:4])
key = CryptosignKey.from_pubkey(pubkey)
assert key.public_key(binary=True) == pubkey
try:
    message = key._key.verify(signature)
    print("VALID" if message == challenge and len(signature) == 96 else "INVALID", flush=True)
except BadSignatureError:
    print("INVALID", flush=True)
