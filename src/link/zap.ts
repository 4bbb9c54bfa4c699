import { Reply } from 'zeromq';
import type { LinkLog } from './log.js';
import { RateLimitedLog } from './log.js';
import { z85Encode } from './z85.js';

/**
 * ZAP (ZeroMQ RFC 27) handler: libzmq asks it, over inproc, whether a CURVE client may
 * connect. One per process (the ZAP endpoint is per context); each link server registers
 * its domain with the public keys it accepts. Without a handler libzmq would let every
 * client with any key in, so a CURVE server never runs without one.
 */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

export class ZapAuthenticator {
  private static shared: Promise<ZapAuthenticator> | undefined;
  private readonly domains = new Map<string, ReadonlyMap<string, string>>();
  private readonly limited: RateLimitedLog;
  accepted = 0;
  denied = 0;

  private constructor(
    private readonly socket: Reply,
    private readonly log: LinkLog,
  ) {
    this.limited = new RateLimitedLog(log);
    void this.serve();
  }

  static instance(log: LinkLog): Promise<ZapAuthenticator> {
    ZapAuthenticator.shared ??= (async () => {
      const socket = new Reply({ linger: 0 });
      await socket.bind(ZAP_ENDPOINT);
      return new ZapAuthenticator(socket, log);
    })();
    return ZapAuthenticator.shared;
  }

  /** `keys` maps each accepted Z85 public key to a label (its certificate file name). */
  register(domain: string, keys: ReadonlyMap<string, string>): void {
    this.domains.set(domain, keys);
    if (keys.size === 0)
      this.log.warn(`ZAP domain ${domain}: no authorized keys, every client is refused`);
  }

  unregister(domain: string): void {
    this.domains.delete(domain);
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const [version, requestId, domain, address, , mechanism, credential] = frames;
        const verdict = this.judge(
          String(domain ?? ''),
          String(address ?? ''),
          String(mechanism ?? ''),
          credential,
        );
        await this.socket.send([
          version ?? '1.0',
          requestId ?? '',
          verdict.ok ? '200' : '400',
          verdict.text,
          verdict.ok ? verdict.text : '',
          '',
        ]);
      }
    } catch (err) {
      if (!this.socket.closed) this.log.warn(`ZAP handler stopped: ${(err as Error).message}`);
    }
  }

  private judge(
    domain: string,
    address: string,
    mechanism: string,
    credential: Buffer | undefined,
  ): { ok: boolean; text: string } {
    const keys = this.domains.get(domain);
    if (mechanism !== 'CURVE' || credential?.length !== 32 || keys === undefined) {
      this.denied++;
      this.limited.warn(
        `${domain}/${address}`,
        `refused a ${mechanism || 'unknown'} client from ${address}: not a CURVE client of a known domain`,
      );
      return { ok: false, text: 'CURVE required' };
    }
    const key = z85Encode(credential);
    const label = keys.get(key);
    if (label === undefined) {
      this.denied++;
      this.limited.warn(
        `${domain}/${key}`,
        `refused client ${key} from ${address} on ${domain}: key not in the authorized-keys directory`,
      );
      return { ok: false, text: 'key not authorized' };
    }
    this.accepted++;
    return { ok: true, text: label };
  }
}
