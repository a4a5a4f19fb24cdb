'use strict'
// The fox-wamp router on 127.0.0.1 (port 0 picks a free one), WebSocket + JSON, realm created up front.
// Prints "READY fox-wamp ws://127.0.0.1:PORT/" once it listens.
// Usage: node fox-router.js [--port N] [--lifetime S] [--ticket AUTHID:TICKET]
// With --ticket, fox-wamp authenticates sessions through its auth-handler hooks (getAuthMethods, ticket_auth), as its
// own bin/with_auth.js example does: only 'ticket' is offered, and only AUTHID with TICKET is accepted.
const { arg, exitAfter } = require('./lib/common')
const FoxRouter = require('fox-wamp')

const port = parseInt(arg('port', '0'), 10)
const realm = arg('realm', 'realm1')
const ticket = arg('ticket')
const router = new FoxRouter()

function ticketAuth (expected) {
  const [authid, secret] = [expected.slice(0, expected.indexOf(':')), expected.slice(expected.indexOf(':') + 1)]
  return {
    getAuthMethods: () => ['ticket'],
    ticket_auth: (realmName, secureDetails, presented, extra, cb) => {
      if (secureDetails.authid === authid && presented === secret) cb(undefined, { role: 'user' })
      else cb(new Error('authentication_failed'))
    }
  }
}

router.getRealm(realm, () => {
  const server = router.listenWAMP({ host: '127.0.0.1', port }, ticket ? ticketAuth(ticket) : undefined)
  server.on('listening', () => {
    const version = require('fox-wamp/package.json').version
    console.log(`READY fox-wamp ${version} ws://127.0.0.1:${server.address().port}/`)
  })
  server.on('error', (err) => { console.error('router error:', err.message); process.exit(1) })
})
exitAfter(parseFloat(arg('lifetime', '120')))
