import { type Publisher, Subscriber, XPublisher } from 'zeromq';

/**
 * Socket options shared by every link socket. Reconnect every 100 ms (a restarted peer
 * is talking again well inside a second); ZMTP heartbeats notice a vanished TCP peer in
 * a second; linger 0 so closing never waits on an unreachable peer.
 */
export const COMMON_OPTIONS = {
  linger: 0,
  reconnectInterval: 100,
  reconnectMaxInterval: 0,
  heartbeatInterval: 250,
  heartbeatTimeout: 1000,
  heartbeatTimeToLive: 1000,
} as const;

/**
 * Queues stay bounded (about 300 KB of token packets), but not so small that a receiver
 * descheduled for a few milliseconds loses packets: staleness is handled by draining
 * (see receiveBatches) and by the age check, not by a tiny queue.
 */
export const HIGH_WATER_MARK = 1000;

/**
 * The two sockets of a link end: an XPUB to publish on (it sees subscriptions, so it can
 * greet newcomers) and a SUB to listen on, both with the same security options.
 */
export function openSocketPair(security: object): { pub: XPublisher; sub: Subscriber } {
  const pub = new XPublisher({
    ...COMMON_OPTIONS,
    ...security,
    sendHighWaterMark: HIGH_WATER_MARK,
  });
  pub.verbosity = 'allSubs';
  const sub = new Subscriber({
    ...COMMON_OPTIONS,
    ...security,
    receiveHighWaterMark: HIGH_WATER_MARK,
  });
  sub.subscribe();
  return { pub, sub };
}

/**
 * Sends without ever waiting in line: while a send is in flight, a newer message of the
 * same key replaces an older pending one (newest wins), so a stalled socket cannot build
 * a queue in this process either.
 */
export class NewestSender {
  private busy = false;
  private readonly pending = new Map<string, Uint8Array>();
  private idleWaiters: (() => void)[] = [];
  superseded = 0;
  failed = 0;

  constructor(private readonly socket: XPublisher | Publisher) {}

  send(key: string, bytes: Uint8Array): void {
    // A socket closed on shutdown takes nothing more; a late timer's send is not an error.
    if (this.socket.closed) {
      this.failed++;
      return;
    }
    if (this.busy) {
      if (this.pending.has(key)) this.superseded++;
      this.pending.set(key, bytes);
      return;
    }
    this.busy = true;
    this.socket.send(bytes).then(
      () => this.next(),
      () => {
        this.failed++;
        this.next();
      },
    );
  }

  /** Resolves once nothing is in flight or pending (for callers that must pace themselves). */
  drained(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    this.busy = false;
    const first = this.pending.entries().next();
    if (first.done || this.socket.closed) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    const [key, bytes] = first.value;
    this.pending.delete(key);
    this.send(key, bytes);
  }
}

/**
 * Reads every message that is waiting, then hands the whole batch on: the caller can
 * keep only the newest and count the rest, instead of working through a backlog.
 */
export async function receiveBatches(
  socket: Subscriber,
  onBatch: (batch: Buffer[][]) => void,
  onError: (err: Error) => void,
): Promise<void> {
  const batch: Buffer[][] = [];
  while (!socket.closed) {
    try {
      batch.push(await socket.receive());
      while (socket.readable && batch.length < 1024) batch.push(await socket.receive());
    } catch (err) {
      if (socket.closed) return;
      onError(err as Error);
      continue;
    }
    onBatch(batch);
    batch.length = 0;
    // receive() resolves at once while messages wait, so without this turn of the event
    // loop a busy link would starve timers (hello, state, control) indefinitely.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Publishing sockets are XPUB so they see each new subscription (with `allSubs`
 * verbosity, also a second subscriber to the same topic) and can greet it at once with
 * a hello, instead of leaving a newcomer to wait for the next periodic one.
 */
export async function greetSubscribers(socket: XPublisher, greet: () => void): Promise<void> {
  while (!socket.closed) {
    let message: Buffer[];
    try {
      message = await socket.receive();
    } catch {
      if (socket.closed) return;
      continue;
    }
    if (message[0]?.[0] === 1) greet();
  }
}
