// A string where the contract says int: tsc --noEmit fails with TS2345 (TypeCheckTests).
import { conferencesClient } from '../generated/conferences.js'
import type { WampPeer } from '../generated/wamp-contracts.js'

export async function use (peer: WampPeer): Promise<void> {
  const conferences = conferencesClient(peer)
  await conferences.get("123")
}
