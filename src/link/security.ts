import { isLocalEndpoint } from './endpoint.js';
import type { LinkLog } from './log.js';

/** This side's CURVE key pair and, for a client, the server's public key. */
export interface CurveKeys {
  publicKey: string;
  secretKey: string;
}

export interface CurveServerSecurity extends CurveKeys {
  /** Accepted client public keys (Z85) → label, from an authorized-keys directory. */
  authorizedKeys: ReadonlyMap<string, string>;
}

export interface CurveClientSecurity extends CurveKeys {
  serverKey: string;
}

export class LinkSecurityError extends Error {
  override name = 'LinkSecurityError';
}

/**
 * Unencrypted traffic may only stay on this host. Off loopback and ipc, CURVE is required
 * unless the operator explicitly chose `insecure`, which is then said loudly.
 */
export function enforceTransportSecurity(
  endpoints: readonly string[],
  curve: boolean,
  insecure: boolean,
  log: LinkLog,
): void {
  if (curve) return;
  for (const endpoint of endpoints) {
    if (isLocalEndpoint(endpoint)) continue;
    if (!insecure) {
      throw new LinkSecurityError(
        `${endpoint} leaves this host: give CURVE keys (--curve-secret with --authorized-keys on the brain, --server-key on the cerebellum) or pass --insecure to run unencrypted`,
      );
    }
    log.warn(`${endpoint}: running WITHOUT encryption or authentication (--insecure)`);
  }
}
