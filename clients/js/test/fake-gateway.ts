/**
 * An in-memory stand-in for the Portcullis gateway, enough of docs/protocol.md to drive the client
 * in unit tests without a network: the greeting, subscribe with recovery from `since`, the
 * `recover` parameter for automatic channels, publish with idempotency keys, history, presence, ping.
 * Its WebSocket class is handed to the client as `options.WebSocket`.
 */
import { PortcullisClient, type ClientOptions } from '../src/index.js';

interface Stored {
  offset: number;
  data: unknown;
}

interface Chan {
  epoch: string;
  log: Stored[];
}

export interface ClientMsg {
  type: string;
  id?: number;
  channel?: string;
  since?: { offset: number; epoch: string };
  data?: unknown;
  idempotencyKey?: string;
  limit?: number;
  token?: string;
}

export class FakeGateway {
  channels = new Map<string, Chan>();
  sockets: FakeSocket[] = [];
  /** Every client message received, in order, with the socket it came on. */
  received: { socket: FakeSocket; msg: ClientMsg }[] = [];
  /** idempotency key -> the publish's ack */
  keys = new Map<string, { offset: number; epoch: string }>();
  /** The user a connection is greeted as when its token is not a JWT (a JWT's `sub` otherwise). */
  user = 'alice';
  /** When set, handshakes fail before `open` (the probe then asks `probeAnswer`). */
  refuse = false;
  /** When set, publishes are not answered (the publication is still made). */
  holdPublishAcks = false;
  /** Channels the user may not read. */
  forbidden = new Set<string>();

  /** `{user}` in a name stands for the connection's user. */
  constructor(readonly autoChannels: string[] = ['user:alice']) {}

  get WebSocket() {
    const gateway = this;
    return class extends FakeSocket {
      constructor(url: string, protocols: string[]) {
        super(gateway, url, protocols);
      }
    };
  }

  chan(name: string): Chan {
    let ch = this.channels.get(name);
    if (!ch) this.channels.set(name, (ch = { epoch: 'e1', log: [] }));
    return ch;
  }

  /** A publication from the backend: stored, then fanned out to subscribers. */
  publish(channel: string, data: unknown): number {
    const ch = this.chan(channel);
    const offset = ch.log.length + 1;
    ch.log.push({ offset, data });
    for (const s of this.open()) if (s.subscribed.has(channel)) s.push({ type: 'message', channel, offset, epoch: ch.epoch, data });
    return offset;
  }

  open(): FakeSocket[] {
    return this.sockets.filter((s) => s.state === 'open');
  }

  sent(type: string): ClientMsg[] {
    return this.received.filter((r) => r.msg.type === type).map((r) => r.msg);
  }

  /** What `subscribe` with `since` (or `recover`) does: ack, then the missed publications. */
  recover(socket: FakeSocket, channel: string, id: number | undefined, since?: { offset: number; epoch: string }): void {
    const ch = this.chan(channel);
    const latest = ch.log.length;
    const recovered = since ? since.epoch === ch.epoch && since.offset <= latest : undefined;
    socket.subscribed.add(channel);
    socket.push({ type: 'ack', id, channel, offset: latest, epoch: ch.epoch, recovered });
    if (recovered) {
      for (const p of ch.log.slice(since!.offset)) socket.push({ type: 'message', channel, offset: p.offset, epoch: ch.epoch, data: p.data });
    }
  }

  handle(socket: FakeSocket, msg: ClientMsg): void {
    this.received.push({ socket, msg });
    const { id, channel } = msg;
    switch (msg.type) {
      case 'ping':
        return socket.push({ type: 'pong', id });
      case 'auth':
        return socket.push({ type: 'ack', id, expiresAt: Date.now() + 60_000 });
      case 'subscribe':
        if (this.forbidden.has(channel!)) return socket.push({ type: 'error', id, code: 'forbidden', message: 'no read permission for this channel' });
        return this.recover(socket, channel!, id, msg.since);
      case 'unsubscribe':
        socket.subscribed.delete(channel!);
        return socket.push({ type: 'ack', id });
      case 'history': {
        const ch = this.chan(channel!);
        const from = msg.since?.offset ?? 0;
        const publications = ch.log.slice(from, from + (msg.limit ?? 100));
        return socket.push({ type: 'history', id, channel, offset: ch.log.length, epoch: ch.epoch, complete: true, publications });
      }
      case 'presence': {
        const members = this.open()
          .filter((s) => s.subscribed.has(channel!))
          .map((s, i) => ({ user: s.user ?? 'anonymous', connection: 'conn' + this.sockets.indexOf(s), since: 1000 + i }));
        return socket.push({ type: 'presence', id, channel, members, complete: true });
      }
      case 'publish': {
        let ack = msg.idempotencyKey ? this.keys.get(msg.idempotencyKey) : undefined;
        if (!ack) {
          ack = { offset: this.publish(channel!, msg.data), epoch: this.chan(channel!).epoch };
          if (msg.idempotencyKey) this.keys.set(msg.idempotencyKey, ack);
        }
        if (!this.holdPublishAcks) socket.push({ type: 'ack', id, ...ack });
        return;
      }
    }
  }
}

export class FakeSocket {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  user?: string;
  subscribed = new Set<string>();
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(
    readonly gateway: FakeGateway,
    readonly url: string,
    readonly protocols: string[],
  ) {
    gateway.sockets.push(this);
    setTimeout(() => this.#handshake(), 1);
  }

  get token(): string {
    return this.protocols.find((p) => p.startsWith('portcullis.bearer.'))!.slice('portcullis.bearer.'.length);
  }

  #handshake(): void {
    if (this.state !== 'connecting') return;
    if (this.gateway.refuse) return this.#closed(1006, '');
    this.state = 'open';
    this.onopen?.();
    let user = this.gateway.user;
    try {
      user = JSON.parse(Buffer.from(this.token.split('.')[1], 'base64url').toString()).sub ?? user;
    } catch {
      // not a JWT
    }
    this.user = user;
    this.push({ type: 'connected', connection: 'c' + this.gateway.sockets.length, user, expiresAt: Date.now() + 60_000 });
    const recover = JSON.parse(new URL(this.url).searchParams.get('recover') ?? '{}');
    for (const channel of this.gateway.autoChannels.map((c) => c.replace('{user}', user))) {
      if (recover[channel]) this.gateway.recover(this, channel, undefined, recover[channel]);
      else this.subscribed.add(channel);
    }
  }

  /** A server message, delivered in order on a later turn. */
  push(msg: object): void {
    const text = JSON.stringify(msg);
    setTimeout(() => this.state === 'open' && this.onmessage?.({ data: text }), 0);
  }

  send(text: string): void {
    if (this.state !== 'open') throw new Error('not open');
    this.gateway.handle(this, JSON.parse(text));
  }

  close(): void {
    if (this.state !== 'closed') this.#closed(1000, '');
  }

  /** The server (or the network) ends the connection. */
  kill(code = 1006, reason = ''): void {
    this.#closed(code, reason);
  }

  #closed(code: number, reason: string): void {
    this.state = 'closed';
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }
}

/** An unsigned JWT with these claims: enough for the client, which reads `sub` and verifies nothing. */
export function jwt(claims: object): string {
  return 'eyJhbGciOiJIUzI1NiJ9.' + Buffer.from(JSON.stringify(claims)).toString('base64url') + '.c2ln';
}

/** Resolves once `predicate` holds (checked every few ms), or fails after `ms`. */
export async function until(predicate: () => unknown, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Every client {@link setup} made; a test file closes them after each test (`afterEach(closeClients)`), passed or failed, so that no test leaves timers behind. */
const made: PortcullisClient[] = [];

export function closeClients(): void {
  made.splice(0).forEach((c) => c.close());
}

/** A client of `gateway` with quick backoff; `events` records its states, `tokens()` counts getToken calls. */
export function setup(options: Partial<ClientOptions> = {}, gateway = new FakeGateway()) {
  let tokens = 0;
  const client = new PortcullisClient({
    url: 'ws://gateway.test/ws',
    getToken: async () => 'token' + ++tokens,
    WebSocket: gateway.WebSocket,
    backoffBaseMs: 5,
    backoffCapMs: 20,
    fetch: async () => new Response('{"ok":true}'),
    ...options,
  });
  made.push(client);
  const events: string[] = [];
  client.on('state', ({ state }) => events.push(state));
  return { client, gateway, events, tokens: () => tokens };
}
