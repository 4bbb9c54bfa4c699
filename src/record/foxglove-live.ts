import foxglove, { type IWebSocket, StatusLevel } from '@foxglove/ws-protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { type CdrSink, type RecordedQos, recordInto } from './message-sink.js';
import { ros2msgSchema } from './ros2msg-schema.js';

/**
 * The topics a node records, served live over the Foxglove WebSocket protocol
 * (`foxglove.websocket.v1`): one channel per topic, advertised when its first message
 * comes, with the same `ros2msg` schema and CDR bytes the MCAP recorder writes, each message
 * sent with its log time in nanoseconds. Nothing here waits for a client: a message is only
 * serialized when some client subscribes to its topic, and a client whose socket has more
 * than `sendBufferBytes` queued misses messages (counted) until it catches up.
 */

export interface FoxgloveLiveOptions {
  /** Address to listen on (127.0.0.1 unless said otherwise). */
  host?: string;
  /** TCP port; 0 takes a free one (see `port`). */
  port: number;
  /** Server name shown to clients. */
  name: string;
  /** Bytes queued for one client past which its messages are dropped (default 4 MiB). */
  sendBufferBytes?: number;
  log?: { info(message: string): void; warn(message: string): void };
}

export interface FoxgloveLiveCounters {
  /** Clients connected now, and ever. */
  clients: number;
  connections: number;
  /** Messages handed to a client's socket, and their bytes. */
  sent: number;
  bytes: number;
  /** Messages a subscribed client did not get because its send buffer was full. */
  dropped: number;
  /** Client messages refused (unparsable, unsupported) and socket errors. */
  client_errors: number;
}

const DEFAULT_SEND_BUFFER = 4 * 1024 * 1024;
const SUBPROTOCOL = foxglove.FoxgloveServer.SUPPORTED_SUBPROTOCOL;

interface LiveChannel {
  id: number;
  subscribed: boolean;
}

export class FoxgloveLive implements CdrSink {
  readonly counters: FoxgloveLiveCounters = {
    clients: 0,
    connections: 0,
    sent: 0,
    bytes: 0,
    dropped: 0,
    client_errors: 0,
  };
  private readonly server: InstanceType<typeof foxglove.FoxgloveServer>;
  private readonly channels = new Map<string, LiveChannel>();
  private readonly byId = new Map<number, LiveChannel>();
  /** The client whose message the protocol server is handling, to answer its errors. */
  private handling: ClientSocket | undefined;
  private closed = false;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly host: string,
    readonly port: number,
    options: FoxgloveLiveOptions,
  ) {
    const log = options.log;
    const limit = options.sendBufferBytes ?? DEFAULT_SEND_BUFFER;
    this.server = new foxglove.FoxgloveServer({ name: options.name });
    this.server.on('subscribe', (id) => this.setSubscribed(id, true));
    this.server.on('unsubscribe', (id) => this.setSubscribed(id, false));
    this.server.on('error', (error) => {
      this.counters.client_errors++;
      const client = this.handling;
      log?.warn(`foxglove client ${client?.name ?? '?'}: ${error.message}`);
      if (client) {
        this.server.sendStatus(
          { level: StatusLevel.ERROR, message: `refused: ${error.message}` },
          client,
        );
      }
    });
    wss.on('error', (error) => log?.warn(`foxglove server: ${error.message}`));
    wss.on('connection', (ws, request) => {
      const name = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
      if (ws.protocol !== SUBPROTOCOL) {
        // Not a Foxglove client (or another protocol version): it would not understand us.
        this.counters.client_errors++;
        log?.warn(`foxglove client ${name}: refused, it does not speak ${SUBPROTOCOL}`);
        ws.close(1002, `pons speaks ${SUBPROTOCOL} only`);
        return;
      }
      this.counters.clients++;
      this.counters.connections++;
      log?.info(`foxglove client ${name} connected`);
      ws.on('error', (error) => {
        this.counters.client_errors++;
        log?.warn(`foxglove client ${name}: ${error.message}`);
      });
      ws.on('close', () => {
        this.counters.clients--;
        log?.info(`foxglove client ${name} disconnected`);
      });
      this.server.handleConnection(new ClientSocket(ws, name, limit, this), name);
    });
  }

  /** Listens; rejects when the address cannot be bound (in use, not this host's). */
  static open(options: FoxgloveLiveOptions): Promise<FoxgloveLive> {
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host,
        port: options.port,
        handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      });
      wss.once('error', (error) =>
        reject(new Error(`--foxglove: cannot listen on ${host}:${options.port}: ${error.message}`)),
      );
      wss.once('listening', () => {
        const address = wss.address();
        const port = typeof address === 'object' && address ? address.port : options.port;
        resolve(new FoxgloveLive(wss, host, port, options));
      });
    });
  }

  get url(): string {
    return `ws://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  record(topic: string, type: string, stampNs: bigint, message: object, qos: RecordedQos): void {
    recordInto([this], topic, type, stampNs, message, qos);
  }

  /** Advertises a topic on its first message; true while some client is subscribed to it. */
  wants(topic: string, type: string): boolean {
    if (this.closed) return false;
    const key = `${topic} ${type}`;
    let channel = this.channels.get(key);
    if (!channel) {
      const id = this.server.addChannel({
        topic,
        encoding: 'cdr',
        schemaName: type,
        schemaEncoding: 'ros2msg',
        schema: ros2msgSchema(type),
      });
      channel = { id, subscribed: false };
      this.channels.set(key, channel);
      this.byId.set(id, channel);
    }
    return channel.subscribed;
  }

  recordCdr(topic: string, type: string, stampNs: bigint, data: Uint8Array): void {
    const channel = this.channels.get(`${topic} ${type}`);
    if (channel?.subscribed && !this.closed) this.server.sendMessage(channel.id, stampNs, data);
  }

  /** Disconnects every client and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = [...this.wss.clients].map(
      (ws) => new Promise((resolve) => ws.once('close', resolve)),
    );
    for (const ws of this.wss.clients) ws.terminate();
    await Promise.all(gone);
    await new Promise((resolve) => this.wss.close(resolve));
  }

  /** Runs the protocol server's handler for one client message, remembering whose it is. */
  dispatch(client: ClientSocket, handle: () => void): void {
    this.handling = client;
    try {
      handle();
    } finally {
      this.handling = undefined;
    }
  }

  private setSubscribed(id: number, subscribed: boolean): void {
    const channel = this.byId.get(id);
    if (channel) channel.subscribed = subscribed;
  }
}

/**
 * One client's `ws` socket as the protocol server sees it. Its binary sends (message data)
 * are dropped while the socket has `limit` bytes or more queued; JSON sends (advertisements,
 * status) always go. `send` takes one argument, so the protocol server hands it header and
 * payload as one buffer, and a drop can never split a message.
 */
class ClientSocket implements IWebSocket {
  /** Dropping since the last message that went: the client has been told once. */
  private stalled = false;

  constructor(
    private readonly ws: WebSocket,
    readonly name: string,
    private readonly limit: number,
    private readonly live: FoxgloveLive,
  ) {}

  get binaryType(): string {
    return this.ws.binaryType;
  }
  set binaryType(type: string) {
    this.ws.binaryType = type as WebSocket['binaryType'];
  }
  get protocol(): string {
    return this.ws.protocol;
  }
  onerror: ((event: unknown) => void) | null = null;
  onopen: ((event: unknown) => void) | null = null;
  get onclose(): ((event: unknown) => void) | null {
    return this.ws.onclose as ((event: unknown) => void) | null;
  }
  set onclose(handler: ((event: unknown) => void) | null | undefined) {
    this.ws.onclose = handler ?? null;
  }
  get onmessage(): ((event: unknown) => void) | null {
    return this.ws.onmessage as ((event: unknown) => void) | null;
  }
  set onmessage(handler: ((event: unknown) => void) | null | undefined) {
    this.ws.onmessage = handler ? (event) => this.live.dispatch(this, () => handler(event)) : null;
  }

  close(): void {
    this.ws.close();
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') {
      this.ws.send(data);
      return;
    }
    const counters = this.live.counters;
    if (this.ws.bufferedAmount >= this.limit) {
      counters.dropped++;
      if (!this.stalled) {
        this.stalled = true;
        this.send(
          JSON.stringify({
            op: 'status',
            level: StatusLevel.WARNING,
            message: `pons: this connection is too slow; messages are being dropped (over ${this.limit} bytes queued)`,
          }),
        );
      }
      return;
    }
    this.stalled = false;
    this.ws.send(data);
    counters.sent++;
    counters.bytes += data.byteLength;
  }
}
