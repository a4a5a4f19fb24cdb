'use strict'
// Autobahn|JS with one serializer, for the serializer interop tests. It subscribes to com.example.wire.events,
// registers com.example.wire.js_echo (answers with its args and kwargs), prints "READY", calls com.example.wire.echo
// (the test's callee) with binary, text and numbers, prints "ECHO <json>", waits for one event, prints
// "EVENT <json>", then "DONE". Binary values (Uint8Array, Buffer) print as {"$bytes": "<hex>"}.
// Usage: node wire.js --url ws://127.0.0.1:PORT/ --serializer json|msgpack|cbor [--realm realm1] [--seconds 20]
//        node wire.js --rawsocket 127.0.0.1:PORT ...   (Autobahn|JS's RawSocket speaks JSON only)
// Autobahn|JS 26 uses the global WebSocket (Node >= 22); on Node 20 the `ws` package stands in for it.
if (typeof globalThis.WebSocket === 'undefined') globalThis.WebSocket = require('ws')
const autobahn = require('autobahn')

function arg (name, fallback) {
  const i = process.argv.indexOf('--' + name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const serializers = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer()
}
const serializerName = arg('serializer', 'json')
const seconds = parseFloat(arg('seconds', '20'))
setTimeout(() => { console.log('TIMEOUT'); process.exit(3) }, seconds * 1000).unref()

// Autobahn|JS's JSON serializer has no binary: over JSON (its RawSocket speaks nothing else) bytes travel as WAMP's
// JSON binary strings, "\u0000" + Base64, written and read here.
const json = arg('rawsocket') !== undefined || serializerName === 'json'
const binary = (bytes) => json ? '\u0000' + Buffer.from(bytes).toString('base64') : bytes

function describe (v) {
  if (typeof v === 'string' && v.startsWith('\u0000')) return { $bytes: Buffer.from(v.slice(1), 'base64').toString('hex') }
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') }
  if (v instanceof ArrayBuffer) return { $bytes: Buffer.from(v).toString('hex') }
  if (Array.isArray(v)) return v.map(describe)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]))
  return v
}

function open () {
  const rawsocket = arg('rawsocket')
  const options = rawsocket
    ? { transports: [{ type: 'rawsocket', host: rawsocket.split(':')[0], port: parseInt(rawsocket.split(':')[1], 10) }] }
    : { url: arg('url'), serializers: [serializers[serializerName]()], protocols: ['wamp.2.' + serializerName] }
  return new Promise((resolve, reject) => {
    const conn = new autobahn.Connection(Object.assign({ realm: arg('realm', 'realm1'), max_retries: 0, retry_if_unreachable: false }, options))
    conn.onopen = (session) => resolve({ conn, session })
    conn.onclose = (reason, details) => { reject(new Error(`closed: ${reason} ${JSON.stringify(details)}`)); return true }
    conn.open()
  })
}

async function main () {
  const { conn, session } = await open()
  let gotEvent
  const event = new Promise(resolve => { gotEvent = resolve })
  await session.subscribe('com.example.wire.events', (args, kwargs) => gotEvent({ args: describe(args), kwargs: describe(kwargs || {}) }))
  await session.register('com.example.wire.js_echo', (args, kwargs) => new autobahn.Result(args, kwargs))
  console.log('READY ' + (arg('rawsocket') ? 'json' : serializerName))
  const bytes = binary(new Uint8Array([0, 1, 2, 0x7f, 0x80, 0xff, 0]))
  const result = await session.call('com.example.wire.echo', [bytes, 'ü', 42, 1.5, null, true, [1, 2]], { bin: binary(new Uint8Array([9, 8])) })
  const r = result instanceof autobahn.Result ? { args: result.args, kwargs: result.kwargs || {} } : { args: [result], kwargs: {} }
  console.log('ECHO ' + JSON.stringify(describe(r)))
  console.log('EVENT ' + JSON.stringify(await event))
  console.log('DONE')
  conn.close()
  setTimeout(() => process.exit(0), 200)
}

main().catch(e => { console.log('FAILURE ' + (e && e.stack ? e.stack : JSON.stringify(e))); process.exit(1) })
