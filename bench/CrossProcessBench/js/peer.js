'use strict'
// Autobahn|JS peers of the cross-process bench (run by bench/CrossProcessBench; the packages come from the interop
// lockfile in tests/Interop/peers). Every mode exits by itself after --lifetime seconds.
//   node peer.js caller --url U --levels 1,16,64 --seconds 3 --warmup 0.5
//       K workers each keep one com.example.echo call outstanding; one JSON line per level.
//   node peer.js fanout-sub --url U --connections 50 --topics 20
//       every connection subscribes to every topic; prints READY, then answers each stdin line with the event count.
//   node peer.js fanout-pub --url U --topics 20 --window 16
//       publishes acknowledged events round-robin over the topics, --window outstanding, until it is stopped.
const path = require('path')
const { connect, arg, exitAfter } = require(path.join(process.env.WAMP_PEERS_DIR || path.join(__dirname, '../../../tests/Interop/peers'), 'lib/common'))
const readline = require('readline')

const mode = process.argv[2]
const url = arg('url')
const payload = ['hello', 42, { nested: [1, 2, 3] }]
exitAfter(parseFloat(arg('lifetime', '300')))

function pct (sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0
}

async function caller () {
  const session = await connect(url, 'realm1')
  const seconds = parseFloat(arg('seconds', '3'))
  const warmup = parseFloat(arg('warmup', '0.5'))
  for (const k of arg('levels', '1,16,64').split(',').map(Number)) {
    const lat = []
    let errors = 0
    let measuring = false
    const end = Date.now() + (warmup + seconds) * 1000
    const worker = async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint()
        try {
          await session.call('com.example.echo', payload)
          if (measuring) lat.push(Number(process.hrtime.bigint() - t) / 1000)
        } catch (e) { errors++ }
      }
    }
    const workers = Array.from({ length: k }, worker)
    await new Promise(resolve => setTimeout(resolve, warmup * 1000))
    measuring = true
    const t0 = process.hrtime.bigint()
    await Promise.all(workers)
    const el = Number(process.hrtime.bigint() - t0) / 1e9
    lat.sort((a, b) => a - b)
    console.log(JSON.stringify({ bench: 'echo', concurrency: k, seconds: +el.toFixed(3), calls: lat.length, errors, calls_per_sec: Math.round(lat.length / el), p50_us: Math.round(pct(lat, 0.5)), p99_us: Math.round(pct(lat, 0.99)) }))
  }
  session._conn.close()
  setTimeout(() => process.exit(0), 100)
}

async function fanoutSub () {
  const connections = parseInt(arg('connections', '50'), 10)
  const topics = parseInt(arg('topics', '20'), 10)
  let events = 0
  const sessions = []
  for (let c = 0; c < connections; c++) sessions.push(await connect(url, 'realm1'))
  for (const s of sessions) {
    for (let t = 0; t < topics; t++) await s.subscribe('com.example.fanout.t' + t, () => { events++ })
  }
  console.log('READY fanout-sub')
  readline.createInterface({ input: process.stdin }).on('line', () => console.log('COUNT ' + events))
}

async function fanoutPub () {
  const session = await connect(url, 'realm1')
  const topics = parseInt(arg('topics', '20'), 10)
  const window = parseInt(arg('window', '16'), 10)
  let n = 0
  console.log('READY fanout-pub')
  const worker = async () => {
    for (;;) {
      const topic = 'com.example.fanout.t' + (n++ % topics)
      await session.publish(topic, payload, {}, { acknowledge: true })
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
}

const modes = { caller, 'fanout-sub': fanoutSub, 'fanout-pub': fanoutPub }
if (!modes[mode]) { console.error('unknown mode ' + mode); process.exit(2) }
modes[mode]().catch(err => { console.error(mode + ' failed:', err && err.message); process.exit(1) })
