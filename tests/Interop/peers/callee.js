'use strict'
// Autobahn|JS callee (and publisher) for the interop tests.
//   com.example.conferences.get(id) -> {name, where, id} for 123; else error com.example.error.not_found
//                                      with args ["conference <id> not found"] and kwargs {id}
//   com.example.slow(ms)            -> {slept_ms} after ms milliseconds
//   com.example.echo(...args, **kw) -> the same args (and kwargs, when there are any)
//   com.example.import(n)           -> n progressive results [i], then "imported <n>"
//   com.example.whoami              -> the --name of this callee (registered with --invoke, for shared registrations)
// Publishes [seq] with kwargs {seq} to com.example.ticks every --publish-interval ms (0 = never), and
// [seq] with no kwargs to com.example.bare_ticks.
// Autobahn|JS does not implement call canceling as a callee; this peer announces it and answers INTERRUPT
// itself (printing "INTERRUPT <json>"), so the router's interrupts can be observed on a real peer.
// Usage: node callee.js --url ws://127.0.0.1:PORT/ [--realm realm1] [--name A] [--invoke single]
//                       [--only all|none|get,slow,echo,import,whoami] [--publish-interval 0] [--lifetime 60]
const { autobahn, arg, connect, exitAfter, taps } = require('./lib/common')

const url = arg('url')
const realm = arg('realm', 'realm1')
const name = arg('name', 'callee')
const invoke = arg('invoke', 'single')
const publishInterval = parseInt(arg('publish-interval', '0'), 10)
const only = arg('only', 'all')
const wanted = (short) => only === 'all' || only.split(',').includes(short)

taps.onSend = (frame) => {
  const msg = JSON.parse(frame)
  if (msg[0] === 1) { // HELLO: announce callee call_canceling, which this script handles below
    msg[2].roles.callee.features = Object.assign({}, msg[2].roles.callee.features, { call_canceling: true })
    return JSON.stringify(msg)
  }
  return frame
}

const CONFERENCES = { 123: { name: 'deSymfony', where: 'Madrid', id: 123 } }
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

async function main () {
  const session = await connect(url, realm)
  session._MESSAGE_MAP[69] = (msg) => {
    console.log('INTERRUPT ' + JSON.stringify({ request: msg[1], options: msg[2] }))
    if (session._invocations && session._invocations[msg[1]]) delete session._invocations[msg[1]]
    session._send_wamp([8, 68, msg[1], {}, 'wamp.error.canceled', ['interrupted']])
  }

  if (wanted('get')) await session.register('com.example.conferences.get', (args) => {
    const id = args[0]
    if (Object.prototype.hasOwnProperty.call(CONFERENCES, id)) return CONFERENCES[id]
    throw new autobahn.Error('com.example.error.not_found', [`conference ${id} not found`], { id })
  })
  if (wanted('slow')) await session.register('com.example.slow', async (args) => {
    const ms = Number(args[0] || 0)
    await sleep(ms)
    return { slept_ms: ms }
  })
  if (wanted('echo')) await session.register('com.example.echo', (args, kwargs) =>
    kwargs && Object.keys(kwargs).length ? new autobahn.Result(args, kwargs) : new autobahn.Result(args))
  if (wanted('import')) await session.register('com.example.import', async (args, kwargs, details) => {
    const n = Number(args[0] || 3)
    for (let i = 1; i <= n; i++) {
      if (details.progress) details.progress([i])
      await sleep(10)
    }
    return `imported ${n}`
  })
  if (wanted('whoami')) await session.register('com.example.whoami', () => name, { invoke })
  console.log(`READY callee ${name} session=${session.id}`)

  let timer = null
  if (publishInterval > 0) {
    let seq = 0
    timer = setInterval(() => {
      seq++
      session.publish('com.example.ticks', [seq], { seq })
      session.publish('com.example.bare_ticks', [seq])
    }, publishInterval)
  }
  exitAfter(parseFloat(arg('lifetime', '60')), () => { if (timer) clearInterval(timer); session._conn.close() })
}

main().catch(err => { console.error('callee failed:', err && (err.error || err.message), JSON.stringify(err && err.args)); process.exit(1) })
