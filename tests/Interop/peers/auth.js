'use strict'
// Autobahn|JS joins a realm with one authentication method, answering the CHALLENGE with Autobahn's own helpers
// (auth_cra.derive_key and sign, auth_cryptosign.sign_challenge over tweetnacl), then prints one JSON line: the
// identity the WELCOME grants, or the refusal ({"refused": REASON, "message": ...}). Exits by itself.
// Usage: node auth.js --url ws://127.0.0.1:PORT/ [--realm realm1] --authmethod ticket|wampcra|cryptosign [--authid ID] --secret SECRET
//   (for cryptosign, SECRET is the private key seed, 64 hex characters)
const { autobahn, arg, exitAfter } = require('./lib/common')

const method = arg('authmethod')
const secret = arg('secret')
let authextra
let key
if (method === 'cryptosign') {
  key = autobahn.nacl.sign.keyPair.fromSeed(autobahn.util.htob(secret))
  authextra = { pubkey: autobahn.auth_cryptosign.public_key(key) }
}

function onchallenge (session, challengeMethod, extra) {
  switch (challengeMethod) {
    case 'ticket':
      return secret
    case 'wampcra':
      return autobahn.auth_cra.sign(extra.salt ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen) : secret, extra.challenge)
    case 'cryptosign':
      return autobahn.auth_cryptosign.sign_challenge(key, extra)
    default:
      throw new Error(`no answer for a '${challengeMethod}' challenge`)
  }
}

let printed = false
function print (fields) {
  if (printed) return
  printed = true
  console.log(JSON.stringify(fields))
  setTimeout(() => process.exit(0), 50)
}

const conn = new autobahn.Connection({
  url: arg('url'),
  realm: arg('realm', 'realm1'),
  protocols: ['wamp.2.json'],
  serializers: [new autobahn.serializer.JSONSerializer()],
  max_retries: 0,
  retry_if_unreachable: false,
  authmethods: [method],
  authid: arg('authid'),
  authextra,
  onchallenge
})
conn.onopen = (session, details) => {
  print({ authid: details.authid, authrole: details.authrole, authmethod: details.authmethod, authprovider: details.authprovider })
  conn.close()
}
conn.onclose = (reason, details) => {
  print({ refused: details.reason, message: details.message, transport: reason })
  return true
}
conn.open()
exitAfter(parseFloat(arg('lifetime', '20')), () => print({ failure: 'no WELCOME or ABORT in time' }))
