'use strict'
// Shared helpers for the Node.js peers used by the interop tests.
// Autobahn|JS 26 uses the global WebSocket (Node >= 22); on Node 20 the `ws` package stands in for it.
// The wrapper below also lets a peer watch and adjust the raw WAMP frames it exchanges.
const WS = require('ws')

const taps = { onSend: null, onReceive: null }
class TappedWebSocket extends WS {
  constructor (...args) {
    super(...args)
    this.addEventListener('message', (e) => { if (taps.onReceive) taps.onReceive(String(e.data)) })
  }

  send (data, ...rest) {
    if (taps.onSend) data = taps.onSend(String(data))
    return super.send(data, ...rest)
  }
}
globalThis.WebSocket = TappedWebSocket
const autobahn = require('autobahn')

function arg (name, fallback) {
  const i = process.argv.indexOf('--' + name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

// Opens one session; rejects when it is not open within timeoutMs. Never reconnects.
function connect (url, realm, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const conn = new autobahn.Connection({
      url,
      realm,
      protocols: ['wamp.2.json'],
      serializers: [new autobahn.serializer.JSONSerializer()],
      max_retries: 0,
      retry_if_unreachable: false
    })
    const timer = setTimeout(() => reject(new Error(`no session with ${url} within ${timeoutMs} ms`)), timeoutMs)
    conn.onopen = (session) => { clearTimeout(timer); session._conn = conn; resolve(session) }
    conn.onclose = (reason, details) => {
      clearTimeout(timer)
      reject(new Error(`connection closed: ${reason} ${details && details.message ? details.message : ''}`))
      return true
    }
    conn.open()
  })
}

// Every peer exits by itself after its lifetime, whatever happens.
function exitAfter (seconds, cleanup) {
  const stop = () => { try { if (cleanup) cleanup() } catch (e) {} setTimeout(() => process.exit(0), 100) }
  setTimeout(stop, seconds * 1000).unref()
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

module.exports = { autobahn, arg, connect, exitAfter, taps }
