// The generated TypeScript client against a C# callee of the conferences contract (GeneratedClientTests.cs starts the
// router, the callee and this script). Prints one "PASS <step> …" line per step and "DONE" at the end; any failure
// prints "FAIL …" and exits with 1.
// Usage: node out/conferences.test.js --url ws://127.0.0.1:PORT/ [--realm conferences]
import autobahn from 'autobahn'
import WebSocket from 'ws'
import { conferencesClient, conferenceEventsClient, ConferenceNotFound, type Conference, type Ticket } from './generated/conferences.js'
import { progressStepsClient, type Step } from './generated/streams.js'
import { WampDeadline, WampTimeoutError } from './generated/wamp-contracts.js'

// Autobahn|JS 26 uses the global WebSocket, which Node 20 does not have: the ws package stands in for it.
const g = globalThis as { WebSocket?: unknown }
g.WebSocket ??= WebSocket

function arg (name: string, fallback?: string): string {
  const i = process.argv.indexOf('--' + name)
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]
  if (fallback === undefined) throw new Error(`--${name} is required`)
  return fallback
}

function check (condition: boolean, what: string): void {
  if (!condition) throw new Error(what)
}

/** Rejects when `promise` has not settled within `ms`: no step of this script waits unbounded. */
function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
    promise.then(v => { clearTimeout(timer); resolve(v) }, e => { clearTimeout(timer); reject(e) })
  })
}

async function main (): Promise<void> {
  const connection = new autobahn.Connection({
    url: arg('url'),
    realm: arg('realm', 'conferences'),
    protocols: ['wamp.2.json'],
    serializers: [new autobahn.serializer.JSONSerializer()],
    max_retries: 20,
    initial_retry_delay: 0.05,
    max_retry_delay: 0.5,
    retry_if_unreachable: true
  })
  await within(new Promise<void>(resolve => { connection.onopen = () => resolve(); connection.open() }), 10_000, 'open a session')
  // Bound to the connection, so that calls follow its reconnections.
  const conferences = conferencesClient(connection)
  const events = conferenceEventsClient(connection)

  // A typed result.
  const c: Conference = await conferences.get(123)
  check(c.name === 'deSymfony' && c.where === 'Madrid' && c.id === 123, `get(123) returned ${JSON.stringify(c)}`)
  console.log(`PASS get ${JSON.stringify(c)}`)

  // The contract's [WampError] type, as its generated class.
  let notFound: unknown = null
  try {
    await conferences.get(999)
  } catch (e) {
    notFound = e
  }
  check(notFound instanceof ConferenceNotFound, `get(999) threw ${String(notFound)}`)
  const error = notFound as ConferenceNotFound
  check(error.uri === 'com.example.error.not_found' && error.args[0] === 'conference 999 not found' && error.kwargs.id === 999,
    `get(999) threw ${error.uri} ${JSON.stringify(error.args)} ${JSON.stringify(error.kwargs)}`)
  console.log(`PASS not_found ${error.name}: ${error.message}`)

  // [Timeout(200)]: the callee takes 30 s; the call fails at its limit.
  const started = performance.now()
  let timeout: unknown = null
  try {
    await conferences.report(123)
  } catch (e) {
    timeout = e
  }
  const elapsed = performance.now() - started
  check(timeout instanceof WampTimeoutError, `report(123) ended with ${String(timeout)}`)
  const t = timeout as WampTimeoutError
  check(t.limitMs === 200 && t.attempts === 1 && t.procedure === 'com.example.conferences.report', `report(123): ${t.message}`)
  check(elapsed >= 195 && elapsed < 10000, `report(123) failed after ${elapsed} ms, not at its 200 ms limit`)
  console.log(`PASS timeout after ${Math.round(elapsed)} ms: ${t.message}`)

  // An AbortSignal cancels the call (CANCEL killnowait, as a .NET CancellationToken does) and rejects with its reason.
  // The callee takes 30 s: the abort comes while the call is in flight.
  const controller = new AbortController()
  const aborted = conferences.report(7, controller.signal)
  setTimeout(() => controller.abort(), 50)
  let reason: unknown = null
  try {
    await aborted
  } catch (e) {
    reason = e
  }
  check(reason === controller.signal.reason && (reason as Error).name === 'AbortError', `report(7) after abort() ended with ${String(reason)}`)
  console.log(`PASS abort ${(reason as Error).name}`)

  // A deadline bounds every call of a client: the attempt's limit is cut to what remains, and nothing starts after it.
  const deadline = WampDeadline.within(120)
  const bounded = conferencesClient(connection, { deadline })
  let cut: unknown = null
  try {
    await bounded.report(123)
  } catch (e) {
    cut = e
  }
  check(cut instanceof WampTimeoutError && cut.limitMs <= 120 && cut.attempts === 1, `report(123) under a 120 ms deadline ended with ${String(cut)}`)
  // The attempt's own timer may fire a hair before the deadline does: wait until it has passed.
  await new Promise(resolve => setTimeout(resolve, deadline.remainingMs + 1))
  let late: unknown = null
  try {
    await bounded.get(123)
  } catch (e) {
    late = e
  }
  check(late instanceof WampTimeoutError && late.attempts === 0, `get(123) after the deadline ended with ${String(late)}`)
  console.log(`PASS deadline ${(cut as WampTimeoutError).message} / ${(late as WampTimeoutError).message}`)

  // An event the C# service publishes (its Update does) reaches the typed handler.
  let onUpdated: (c: Conference) => void = () => {}
  const updated = new Promise<Conference>(resolve => { onUpdated = resolve })
  const subscription = await events.onUpdated(conference => { if (conference.id === 7) onUpdated(conference) })
  const changed: Conference = await conferences.update(7, 'Bergen')
  const event = await within(updated, 30000, 'the updated event')
  check(event.name === 'NDC Oslo' && event.where === 'Bergen' && event.id === 7 && changed.where === 'Bergen', `updated event ${JSON.stringify(event)}`)
  await subscription.unsubscribe()
  console.log(`PASS event ${JSON.stringify(event)}`)

  // A typed publish, which a C# subscriber receives.
  await events.publishUpdated({ name: 'TypeScript Summit', where: 'Node', id: 1 })
  console.log('PASS publish')

  // Progressive results as an AsyncIterable, typed; leaving the loop early cancels the call.
  const progress = progressStepsClient(connection)
  const steps: Step[] = []
  for await (const step of progress.count(3)) steps.push(step)
  check(JSON.stringify(steps) === JSON.stringify([1, 2, 3].map(i => ({ index: i, label: `step ${i}` }))), `count(3) gave ${JSON.stringify(steps)}`)
  let seen = 0
  for await (const step of progress.count(1000)) {
    seen = step.index
    if (step.index === 5) break
  }
  check(seen === 5, `count(1000) stopped at ${seen}`)
  console.log(`PASS stream ${JSON.stringify(steps)}`)

  // Calls the C# side repeats with the .NET proxy, to compare what the callee receives.
  const all: Conference[] = await conferences.list()
  check(all.length === 3 && all.every(x => typeof x.name === 'string'), `list() returned ${JSON.stringify(all)}`)
  const ticket: Ticket = await conferences.register(123, { name: 'Ada', email: 'ada@example.com' }, 'ada-at-desymfony')
  check(ticket.conferenceId === 123 && ticket.attendee === 'Ada' && ticket.number === 1, `register returned ${JSON.stringify(ticket)}`)
  console.log(`PASS compare ${all.length} ${JSON.stringify(ticket)}`)

  // [Idempotent]: the callee drops this connection after its first update of conference 42; the call is retried on the
  // next session with the same key, and the callee replays the first outcome.
  const moved: Conference = await within(conferences.update(42, 'Brno'), 20_000, 'update(42) across a dropped connection')
  check(moved.id === 42 && moved.where === 'Brno' && moved.name === 'Update Conference', `update(42) returned ${JSON.stringify(moved)}`)
  console.log(`PASS idempotent ${JSON.stringify(moved)}`)

  connection.close()
}

main().then(
  () => { console.log('DONE'); process.exit(0) },
  (e: unknown) => { console.log(`FAIL ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1) })
