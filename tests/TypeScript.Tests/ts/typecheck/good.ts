// Correct use of the generated client: compiles with tsc --noEmit (TypeCheckTests).
import { conferencesClient, conferenceEventsClient, ConferenceNotFound, type Conference, type Ticket } from '../generated/conferences.js'
import { WampDeadline, WampTimeoutError, type WampPeer } from '../generated/wamp-contracts.js'

export async function use (peer: WampPeer): Promise<string> {
  const conferences = conferencesClient(peer, { deadline: WampDeadline.within(5000) })
  const c: Conference = await conferences.get(123)
  const all: Conference[] = await conferences.list()
  const ticket: Ticket = await conferences.register(123, { name: 'Ada', email: 'ada@example.com' }, 'ada-key')
  const sameAgain: Ticket = await conferences.register(123, { name: 'Ada', email: 'ada@example.com' })
  const events = conferenceEventsClient(peer)
  const subscription = await events.onUpdated((updated: Conference) => { console.log(updated.where) })
  await subscription.unsubscribe()
  try {
    await conferences.report(123, AbortSignal.timeout(1000))
  } catch (e) {
    if (e instanceof ConferenceNotFound) return e.uri
    if (e instanceof WampTimeoutError) return `${e.procedure} after ${e.elapsedMs} ms`
  }
  return `${c.name} ${c.where} ${c.id} ${all.length} ${ticket.number} ${sameAgain.conferenceId}`
}
