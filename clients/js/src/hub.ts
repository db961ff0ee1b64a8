import { Connection, type ConnectionHandlers, type ConnectionOptions } from './connection.js';
import type { ClientFrame, Position, ServerFrame } from './protocol.js';

/**
 * What tabs and the hub say to each other: over a BroadcastChannel between tabs, by direct call
 * (one microtask later) within the leader tab. Tab -> hub: `hi` (here I am, with my subscriptions
 * and positions), `req` (a client frame, stamped with the link generation it was meant for),
 * `leave` (unsubscribed), `bye` (tab closed). Hub -> tabs: `lead` (a new leader: re-announce
 * yourselves), `up` (the link is up in generation `gen`: resubscribe, resend), `ev` (a connection
 * event to mirror), `f` (a server frame). `to` addresses one tab; without it, every tab.
 */
export type ToHub =
  | { k: 'hi'; tab: string; subs: [string, Position | undefined][]; auto: [string, Position][] }
  | { k: 'req'; tab: string; gen: string; f: ClientFrame & { id: number }; held?: boolean }
  | { k: 'leave'; tab: string; channel: string }
  | { k: 'bye'; tab: string };

export type ToTabs =
  | { k: 'lead'; to?: string }
  | { k: 'up'; to?: string; gen: string; f: ServerFrame }
  | { k: 'ev'; to?: string; name: string; p: any }
  | { k: 'f'; to?: string; f: ServerFrame; auto?: boolean };

/** A tab subscribe waiting for the gateway's ack. */
interface Waiter {
  tab: string;
  id: number;
  since?: Position;
  held?: boolean;
}

/** One gateway subscribe in flight, answering every waiter it covers. */
interface Batch {
  since?: Position;
  waiters: Waiter[];
}

/** The hub's view of one channel. */
interface Channel {
  /** Tabs with a subscription to it. */
  tabs: Set<string>;
  /**
   * While connected: the last position broadcast to the tabs. While not: the earliest position any
   * tab needs, which the next subscribe (or the `recover` parameter) asks for.
   */
  pos?: Position;
  /** The gateway holds this connection's subscription (acked). */
  live?: boolean;
  /** On this connection, every publication after this position has been broadcast to the tabs. */
  from?: Position;
  /** The gateway pushes it without a subscribe (`user:<sub>`, `channels.auto-subscribe`). */
  auto?: boolean;
  /** When a publication, gap or recover ack of it last came (a tick of the hub's clock): `recover` keeps the latest. */
  seen: number;
  batch?: Batch;
  /** Tab subscribes the batch in flight does not cover: they need another gateway subscribe after it. */
  queue: Waiter[];
}

type Route = { tab: string; id: number } | { channel: string; batch: Batch };

/**
 * The `recover` parameter's bounds: the gateway refuses (400 `bad_request`, for good) more than 64
 * channels, and the upgrade's request line must stay short (about 6 KB of query here). The most
 * recently active automatic channels go in; the others resume live (a skipped offset shows a gap).
 */
export const MAX_RECOVER = 64;
export const MAX_RECOVER_CHARS = 6000;

/**
 * The leader tab's multiplexer: many tabs' requests over one {@link Connection}. Per channel it
 * keeps one gateway subscription for all tabs and at most one subscribe in flight (the gateway
 * refuses a second). A tab's subscribe joins the one in flight when the replay that follows that
 * ack covers the tab's position; is answered at once (an ack built from the last position
 * broadcast) when the channel is live and the tab is up to date; and otherwise becomes the next
 * gateway subscribe. Every tab keeps its own cursors, so the duplicates this allows are dropped there.
 * Requests are forwarded under fresh ids and their answers routed back to the asking tab only;
 * publications go to every tab.
 */
export class Hub {
  readonly connection: Connection;
  #channels = new Map<string, Channel>();
  #routes = new Map<number, Route>();
  /** The current link generation; '' while not connected. Requests meant for another are stale. */
  #gen = '';
  #gens = 0;
  /** The gateway's `connected` greeting of the current connection. */
  #hello?: ServerFrame;
  #state: { state: string } = { state: 'connecting' };
  #startTimer?: ReturnType<typeof setTimeout>;
  /**
   * Unsubscribes in flight, by id: publications of these channels that were on the way when the
   * last tab left are dropped, rather than mistaken for an automatic channel's.
   */
  #leaving = new Map<number, string>();
  #tick = 0;

  constructor(
    options: ConnectionOptions,
    private readonly post: (message: ToTabs) => void,
    private readonly id: string,
  ) {
    const handlers: ConnectionHandlers = {
      up: (f) => this.#up(f),
      down: () => this.#down(),
      frame: (f) => this.#frame(f),
      event: (name: string, p: any) => {
        if (name === 'state') this.#state = p;
        post({ k: 'ev', name, p });
      },
      recover: () => {
        const recover: Record<string, Position> = {};
        let n = 0;
        let room = MAX_RECOVER_CHARS;
        for (const [name, ch] of [...this.#channels].sort((a, b) => b[1].seen - a[1].seen)) {
          if (!ch.auto || ch.tabs.size || !ch.pos) continue;
          room -= encodeURIComponent(`"${name}":${JSON.stringify(ch.pos)},`).length;
          if (room < 0 || ++n > MAX_RECOVER) break;
          recover[name] = ch.pos;
        }
        return recover;
      },
    };
    this.connection = new Connection(options, handlers);
  }

  /** Announces the new leader, lets the tabs answer for `gatherMs`, then connects. */
  start(gatherMs: number): void {
    this.post({ k: 'lead' });
    this.#startTimer = setTimeout(() => this.connection.start(), gatherMs);
  }

  /**
   * This tab leaves (closes): the others see `reconnecting` until one of them leads. After a
   * terminal close (`quiet`) they already know, and close too.
   */
  stop(quiet = false): void {
    clearTimeout(this.#startTimer);
    this.connection.stop();
    if (!quiet) this.post({ k: 'ev', name: 'state', p: { state: 'reconnecting' } });
  }

  /** A message from a tab. */
  receive(m: ToHub): void {
    switch (m.k) {
      case 'hi':
        for (const [name, since] of m.subs) this.#need(this.#channel(name), since).tabs.add(m.tab);
        for (const [name, pos] of m.auto) {
          const ch = this.#need(this.#channel(name), pos);
          ch.auto = true;
          ch.seen ||= ++this.#tick; // a tab lists them least recently active first
        }
        this.post({ k: 'ev', to: m.tab, name: 'state', p: this.#state });
        if (this.#gen) this.post({ k: 'up', to: m.tab, gen: this.#gen, f: this.#hello! });
        break;
      case 'req':
        if (m.gen !== this.#gen) return; // meant for a link that is gone: the tab sends it again
        if (m.f.type === 'subscribe') return this.#subscribe(m.tab, m.f.channel!, m.f.id, m.f.since, m.held);
        const id = this.connection.nextId();
        this.#routes.set(id, { tab: m.tab, id: m.f.id });
        this.connection.send({ ...m.f, id });
        break;
      case 'leave':
        return this.#leave(m.channel, m.tab);
      case 'bye':
        for (const name of this.#channels.keys()) this.#leave(name, m.tab);
    }
  }

  #channel(name: string): Channel {
    let ch = this.#channels.get(name);
    if (!ch) this.#channels.set(name, (ch = { tabs: new Set(), queue: [], seen: 0 }));
    return ch;
  }

  /** While not connected, lowers the position the next subscribe asks for to what a tab needs. */
  #need(ch: Channel, pos?: Position): Channel {
    if (pos && !this.#gen && (!ch.pos || (pos.epoch === ch.pos.epoch && pos.offset < ch.pos.offset))) ch.pos = pos;
    return ch;
  }

  /**
   * A tab subscribes. `held`: its cursor has held every publication since before this connection
   * (it resubscribes after a reconnect or a hand-over), so whatever was broadcast on this connection
   * after its position is in its hands already.
   */
  #subscribe(tab: string, name: string, id: number, since?: Position, held?: boolean): void {
    const ch = this.#channel(name);
    const waiter = { tab, id, since, held };
    const { pos, from } = ch;
    ch.tabs.add(tab);
    if (ch.batch) {
      covers(ch.batch.since, since) ? ch.batch.waiters.push(waiter) : ch.queue.push(waiter);
    } else if (ch.live && (!since || covers(pos, since) || (held && covers(from, since)))) {
      // Live, and the tab has (or holds) everything broadcast after its position: nothing to replay.
      this.#to(tab, { type: 'ack', id, channel: name, ...pos, recovered: since && true });
    } else {
      this.#send(name, ch, { since, waiters: [waiter] });
    }
  }

  #send(name: string, ch: Channel, batch: Batch): void {
    const id = this.connection.nextId();
    ch.batch = batch;
    this.#routes.set(id, { channel: name, batch });
    this.connection.send({ type: 'subscribe', id, channel: name, since: batch.since });
  }

  #leave(name: string, tab: string): void {
    const ch = this.#channels.get(name);
    if (!ch) return;
    ch.tabs.delete(tab);
    ch.queue = ch.queue.filter((w) => w.tab !== tab);
    if (!ch.tabs.size && !ch.batch) {
      if (ch.live) this.#unsubscribe(name, this.connection.nextId());
      ch.live = false;
      if (!ch.auto) this.#channels.delete(name);
    }
  }

  #unsubscribe(name: string, id: number): void {
    this.#leaving.set(id, name);
    this.connection.send({ type: 'unsubscribe', id, channel: name });
  }

  /** The gateway greeted a new connection: a new generation; every channel a tab holds resumes from its position. */
  #up(f: ServerFrame): void {
    this.#gen = `${this.id}.${++this.#gens}`;
    this.#hello = f;
    for (const [name, ch] of this.#channels) if (ch.tabs.size) this.#send(name, ch, { since: ch.pos, waiters: [] });
    this.post({ k: 'up', gen: this.#gen, f });
  }

  #down(): void {
    this.#gen = '';
    this.#routes.clear();
    this.#leaving.clear();
    for (const ch of this.#channels.values()) {
      ch.live = false;
      ch.from = ch.batch = undefined;
      ch.queue = [];
    }
  }

  #frame(f: ServerFrame): void {
    const name = f.channel!;
    const id = Number(f.id);
    const route = f.id != null ? this.#routes.get(id) : undefined;
    const left = f.id != null && this.#leaving.get(id);
    if (route) this.#routes.delete(id);
    if (left) {
      // The answer to an unsubscribe. Refused for the rate: again later, unless a tab needs the channel again.
      const gen = this.#gen;
      if (f.code !== 'rate_limited') this.#leaving.delete(id);
      else setTimeout(() => gen === this.#gen && (this.#channels.get(left)?.tabs.size ? this.#leaving.delete(id) : this.#unsubscribe(left, id)), f.retryAfterMs ?? 1000);
    } else if (route && 'tab' in route) {
      this.#to(route.tab, { ...f, id: route.id });
    } else if (route) {
      this.#answered(route.channel, route.batch, f);
    } else if (f.type === 'message' || f.type === 'gap' || (f.type === 'ack' && name && f.id == null)) {
      // A publication, a gap notice, or the ack of a channel recovered through `recover`.
      const known = this.#channels.get(name);
      if (!known?.tabs.size && !known?.batch && [...this.#leaving.values()].includes(name)) return; // on its way before the unsubscribe
      const ch = this.#channel(name);
      if (!ch.tabs.size && !ch.batch) ch.auto = true;
      ch.seen = ++this.#tick;
      if (f.offset != null && f.epoch && (f.type !== 'message' || !ch.pos || ch.pos.epoch !== f.epoch || f.offset > ch.pos.offset)) {
        ch.pos = { offset: f.offset, epoch: f.epoch };
      }
      this.post({ k: 'f', f, auto: ch.auto || name === 'user:' + this.#hello?.user });
    } else if ((f.type === 'join' || f.type === 'leave') && name) {
      this.post({ k: 'f', f }); // presence events: each tab passes on those of its subscriptions
    } else if (f.type === 'error' && name) {
      // Permissions narrowed by a re-auth: the gateway left the channel.
      const ch = this.#channels.get(name);
      if (ch) ch.tabs.clear(), (ch.live = false);
      this.post({ k: 'f', f });
    }
  }

  /** The gateway answered a subscribe: every waiter gets the answer; the queued ones go through the rules again. */
  #answered(name: string, batch: Batch, f: ServerFrame): void {
    const ch = this.#channel(name);
    if (f.type === 'error' && f.code === 'rate_limited') {
      const gen = this.#gen;
      setTimeout(() => gen === this.#gen && ch.batch === batch && this.#send(name, ch, batch), f.retryAfterMs ?? 1000);
      return;
    }
    ch.batch = undefined;
    if (f.type === 'ack' && f.offset != null && f.epoch) {
      ch.live = true;
      ch.pos = { offset: f.offset, epoch: f.epoch };
      // what this connection has broadcast now reaches back to the batch's position (with the replay) or the ack's
      const start = f.recovered ? batch.since! : ch.pos;
      if (covers(start, ch.from)) ch.from = start;
    } else if (f.type === 'ack') {
      ch.live = true;
    }
    for (const w of batch.waiters) {
      this.#to(w.tab, { ...f, id: w.id });
      if (f.type === 'error') ch.tabs.delete(w.tab);
    }
    const queued = ch.queue.sort((a, b) => (a.since?.offset ?? -1) - (b.since?.offset ?? -1));
    ch.queue = [];
    for (const w of queued) this.#subscribe(w.tab, name, w.id, w.since, w.held);
    if (!ch.tabs.size && !ch.batch) this.#leave(name, '');
  }

  #to(tab: string, f: ServerFrame): void {
    this.post({ k: 'f', to: tab, f });
  }
}

/** Does the replay after a subscribe from `batch` cover a tab at `since`? */
function covers(batch: Position | undefined, since: Position | undefined): boolean {
  return !since || (!!batch && batch.epoch === since.epoch && batch.offset <= since.offset);
}
