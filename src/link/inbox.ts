import {
  decodePacket,
  type HelloPacket,
  type Packet,
  WireError,
  type WireLimits,
} from '../wire/index.js';
import type { LinkCounters } from './counters.js';
import type { RateLimitedLog } from './log.js';

/** A peer as it last introduced itself. */
export interface PeerHello {
  role: HelloPacket['role'];
  modelId: string;
  specId: string;
  software: string;
  matches: boolean;
}

/**
 * Checks one received batch at the boundary: every message is decoded and validated;
 * what fails is counted by reason and logged (rate limited) with its source, field and
 * reason, and never handed on.
 */
export function decodeBatch(
  batch: readonly Buffer[][],
  source: string,
  counters: LinkCounters,
  limited: RateLimitedLog,
  limits?: Partial<WireLimits>,
): Packet[] {
  const packets: Packet[] = [];
  for (const frames of batch) {
    counters.received++;
    if (frames.length !== 1) {
      counters.drop('frames');
      limited.warn(
        `${source}/frames`,
        `${source}: dropped a message of ${frames.length} frames (pons sends one)`,
      );
      continue;
    }
    try {
      packets.push(decodePacket(frames[0] as Buffer, source, limits));
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      counters.drop(err.code);
      limited.warn(`${source}/${err.code}`, `dropped invalid packet: ${err.message}`);
    }
  }
  return packets;
}

/** Records a peer's hello and says, once per change, when its spec is not ours. */
export function acceptHello(
  hello: HelloPacket,
  ownSpecId: string,
  previous: PeerHello | undefined,
  source: string,
  log: { warn(message: string): void; info(message: string): void },
): PeerHello {
  const peer: PeerHello = {
    role: hello.role,
    modelId: hello.model_id,
    specId: hello.spec_id,
    software: hello.software,
    matches: hello.spec_id === ownSpecId,
  };
  const changed = previous?.specId !== peer.specId || previous?.modelId !== peer.modelId;
  if (changed) {
    const who = `${hello.role} '${hello.model_id}' (pons ${hello.software}) on ${source}`;
    if (peer.matches) log.info(`${who} speaks spec ${hello.spec_id.slice(0, 12)}`);
    else {
      log.warn(
        `${who} speaks spec ${hello.spec_id.slice(0, 12)}, this side executes ${ownSpecId.slice(0, 12)}: its packets will be refused`,
      );
    }
  }
  return peer;
}
