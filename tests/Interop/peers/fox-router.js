'use strict'
// The fox-wamp router on 127.0.0.1 (port 0 picks a free one), WebSocket + JSON, realm created up front.
// Prints "READY fox-wamp ws://127.0.0.1:PORT/" once it listens. Usage: node fox-router.js [--port N] [--lifetime S]
const { arg, exitAfter } = require('./lib/common')
const FoxRouter = require('fox-wamp')

const port = parseInt(arg('port', '0'), 10)
const realm = arg('realm', 'realm1')
const router = new FoxRouter()
router.getRealm(realm, () => {
  const server = router.listenWAMP({ host: '127.0.0.1', port })
  server.on('listening', () => {
    const version = require('fox-wamp/package.json').version
    console.log(`READY fox-wamp ${version} ws://127.0.0.1:${server.address().port}/`)
  })
  server.on('error', (err) => { console.error('router error:', err.message); process.exit(1) })
})
exitAfter(parseFloat(arg('lifetime', '120')))
