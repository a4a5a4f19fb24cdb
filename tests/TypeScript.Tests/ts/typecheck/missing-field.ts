// A field Conference does not have: tsc --noEmit fails with TS2339 (TypeCheckTests).
import { conferencesClient } from '../generated/conferences.js'
import type { WampPeer } from '../generated/wamp-contracts.js'

export async function use (peer: WampPeer): Promise<string> {
  const conferences = conferencesClient(peer)
  const c = await conferences.get(123)
  return c.city
}
