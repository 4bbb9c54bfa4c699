import type { XPublisher } from 'zeromq';
import { encodePacket, type HelloPacket, PROTOCOL_VERSION, type Role } from '../wire/index.js';
import type { LinkIdentity } from './server.js';
import { greetSubscribers, type NewestSender } from './sockets.js';

/**
 * Says who this end is: a `hello` to each new subscriber at once, and to everyone every
 * `intervalMs`, so a peer that joins late or missed one learns it within a second.
 * Returns a function that stops the periodic one.
 */
export function announce(
  pub: XPublisher,
  sender: NewestSender,
  role: Role,
  identity: LinkIdentity,
  intervalMs: number,
): () => void {
  const packet: HelloPacket = {
    v: PROTOCOL_VERSION,
    kind: 'hello',
    role,
    spec: identity.spec,
    spec_id: identity.specId,
    model_id: identity.modelId,
    software: identity.software,
  };
  const bytes = encodePacket(packet);
  const send = () => sender.send('hello', bytes);
  void greetSubscribers(pub, send);
  const timer = setInterval(send, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
