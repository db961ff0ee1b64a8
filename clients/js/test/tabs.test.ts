import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortcullisClient, type ClientOptions, type EncryptionOptions, type TabBus, type TabLock } from '../src/index.js';
import { subject } from '../src/tabs.js';
import { KEY, VECTORS, nodeOpen, nodeSeal } from './envelopes.js';
import { FakeGateway, jwt, until } from './fake-gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Web Locks in memory: one holder per name, the others wait in order; `crash` is a tab dying with the lock. */
class MemoryLocks implements TabLock {
  holders = new Map<string, object>();
  queues = new Map<string, { grant: () => void }[]>();

  request(name: string, { signal }: { signal: AbortSignal }, held: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          this.holders.set(name, waiter);
          held().then(resolve, reject).finally(() => this.release(name, waiter));
        },
      };
      signal.addEventListener('abort', () => {
        const queue = this.queues.get(name) ?? [];
        if (queue.includes(waiter)) {
          queue.splice(queue.indexOf(waiter), 1);
          reject(new Error('AbortError'));
        }
      });
      if (!this.holders.has(name)) {
        this.holders.set(name, waiter);
        setTimeout(() => waiter.grant(), 0);
      } else {
        this.queues.set(name, [...(this.queues.get(name) ?? []), waiter]);
      }
    });
  }

  release(name: string, holder: object | undefined): void {
    if (this.holders.get(name) !== holder) return;
    this.holders.delete(name);
    const next = this.queues.get(name)?.shift();
    if (next) setTimeout(() => next.grant(), 0);
  }

  /** The holding tab is gone (closed, crashed): the lock passes on without it saying anything. */
  crash(name: string): void {
    this.release(name, this.holders.get(name));
  }
}

/** A real (Node) BroadcastChannel that can be cut, so that a tab can die without a word. */
function tab() {
  let cut = false;
  const channel = (name: string): TabBus => {
    const bc = new BroadcastChannel(name);
    return {
      postMessage: (m) => cut || bc.postMessage(m),
      set onmessage(fn: ((e: { data: unknown }) => void) | null) {
        bc.onmessage = fn && ((e: any) => cut || fn(e));
      },
      get onmessage() {
        return null;
      },
      close: () => bc.close(),
    };
  };
  return { channel, cut: () => (cut = true) };
}

/** A tab's client; `key` undefined: the default key (the token's subject). */
function tabClient(gateway: FakeGateway, locks: MemoryLocks, key: string | undefined, extra: Partial<ClientOptions> = {}) {
  const t = tab();
  let dead = false;
  const client = new PortcullisClient({
    url: 'ws://gateway.test/ws',
    getToken: () => 'token',
    // a dead tab's sockets never open
    WebSocket: class extends gateway.WebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols);
        if (dead) this.state = 'closed';
      }
    },
    sharedAcrossTabs: key === undefined ? { locks, channel: t.channel } : { key, locks, channel: t.channel },
    handoverMs: 30,
    backoffBaseMs: 5,
    backoffCapMs: 20,
    fetch: async () => new Response('{"ok":true}'),
    ...extra,
  });
  const states: string[] = [];
  client.on('state', ({ state }) => states.push(state));
  /** The tab dies: no message, no socket, its lock passes on. */
  const crash = () => {
    dead = true;
    t.cut();
    locks.crash('portcullis:' + key);
    for (const s of gateway.open()) if (s.protocols.length && s === gateway.sockets.find((x) => x.state === 'open')) s.kill();
  };
  return { client, states, crash };
}

test('tabs share one socket; when the leader dies a follower takes over and every tab resumes: nothing lost, nothing twice', async (t) => {
  const gateway = new FakeGateway();
  const locks = new MemoryLocks();
  const key = 'k' + Math.random();
  const a = tabClient(gateway, locks, key);
  await until(() => a.client.state === 'connected', 2000, 'A connected');
  const b = tabClient(gateway, locks, key);
  const c = tabClient(gateway, locks, key);
  t.after(() => [a, b, c].forEach((x) => x.client.close()));
  await until(() => b.client.state === 'connected' && c.client.state === 'connected', 2000, 'followers mirror connected');
  assert.equal(gateway.sockets.length, 1, 'one socket for three tabs');

  const got = { a: [] as string[], b1: [] as string[], b2: [] as string[], c1: [] as string[], cUser: [] as string[] };
  await Promise.all([
    a.client.subscribe('room:1', (d) => got.a.push(d)).ready,
    b.client.subscribe('room:1', (d) => got.b1.push(d)).ready,
    b.client.subscribe('room:2', (d) => got.b2.push(d)).ready,
    c.client.subscribe('room:1', (d) => got.c1.push(d)).ready,
  ]);
  c.client.on('publication', (p) => got.cUser.push(p.data));
  assert.deepEqual(
    gateway.sent('subscribe').map((m) => m.channel),
    ['room:1', 'room:2'],
    'one gateway subscription per channel, whatever the number of tabs',
  );
  gateway.publish('room:1', 'a');
  gateway.publish('room:2', 'x');
  gateway.publish('user:alice', 'u1');
  await until(() => got.a.length === 1 && got.b1.length === 1 && got.c1.length === 1 && got.b2.length === 1 && got.cUser.length === 1);

  // C publishes; the gateway makes the publication but the leader dies before the ack comes back
  gateway.holdPublishAcks = true;
  const published = c.client.publish('room:1', 'from C');
  await until(() => gateway.sent('publish').length === 1);
  const key1 = gateway.sent('publish')[0].idempotencyKey;
  await until(() => got.c1.length === 2);
  a.crash();
  gateway.holdPublishAcks = false;
  // published while no tab holds a socket
  gateway.publish('room:1', 'b');
  gateway.publish('room:2', 'y');
  gateway.publish('user:alice', 'u2');

  const { offset } = await published;
  assert.equal(offset, 2, 'the re-sent publish was recognised by its key');
  await until(() => got.b1.length === 3 && got.c1.length === 3 && got.b2.length === 2 && got.cUser.length === 2, 3000, 'everything after the hand-over');
  await sleep(30);
  assert.deepEqual(got.b1, ['a', 'from C', 'b']);
  assert.deepEqual(got.c1, ['a', 'from C', 'b']);
  assert.deepEqual(got.b2, ['x', 'y']);
  assert.deepEqual(got.cUser, ['u1', 'u2']);
  assert.equal(gateway.chan('room:1').log.length, 3, 'published once');

  // B (first in the lock queue) leads now, on a socket of its own
  const fresh = gateway.open();
  assert.equal(fresh.length, 1);
  const onFresh = gateway.received.filter((r) => r.socket === fresh[0]).map((r) => r.msg);
  assert.deepEqual(
    onFresh.filter((m) => m.type === 'subscribe').map((m) => [m.channel, m.since]),
    [
      ['room:1', { offset: 2, epoch: 'e1' }],
      ['room:2', { offset: 1, epoch: 'e1' }],
    ],
    'each channel resumed once, from the earliest position a tab needs',
  );
  assert.deepEqual(onFresh.filter((m) => m.type === 'publish').map((m) => m.idempotencyKey), [key1], "C's unanswered publish, same key");
  assert.deepEqual(JSON.parse(new URL(fresh[0].url).searchParams.get('recover')!), { 'user:alice': { offset: 1, epoch: 'e1' } });
  assert.deepEqual(c.states, ['connecting', 'connected', 'reconnecting', 'connected']);

  // C keeps working through the new leader
  assert.equal((await c.client.publish('room:2', 'z')).offset, 3);
  const page = await c.client.history('room:2');
  assert.deepEqual(page.publications.map((p) => p.data), ['x', 'y', 'z']);

  // a tab that unsubscribes stops the gateway subscription only when no tab needs it any more
  b.client.close();
  await until(() => c.client.state === 'connected' && gateway.open().length === 1 && gateway.open()[0] !== fresh[0], 3000, 'C leads');
});

test("followers mirror the leader's refused and disconnected events, and close with it on a terminal refusal", async (t) => {
  const gateway = new FakeGateway();
  gateway.refuse = true;
  const locks = new MemoryLocks();
  const key = 'k' + Math.random();
  let status = 503;
  const fetch = async () => new Response(JSON.stringify({ error: status === 503 ? 'shutting_down' : 'origin' }), { status });
  const a = tabClient(gateway, locks, key, { fetch });
  const b = tabClient(gateway, locks, key, { fetch });
  t.after(() => [a, b].forEach((x) => x.client.close()));
  const refused: unknown[] = [];
  const disconnected: boolean[] = [];
  b.client.on('refused', (r) => refused.push(r));
  b.client.on('disconnected', (d) => disconnected.push(d.willReconnect));
  const pending = b.client.publish('room:1', 'x');
  pending.catch(() => {});
  await until(() => refused.length >= 1, 2000, 'a mirrored refusal');
  assert.deepEqual(refused[0], { status: 503, error: 'shutting_down', message: undefined, retryAfterMs: undefined });
  assert.equal(b.client.state, 'reconnecting');
  status = 403;
  await until(() => b.client.state === 'closed' && a.client.state === 'closed', 2000, 'both closed');
  assert.equal(disconnected.at(-1), false);
  await assert.rejects(pending, { code: 'closed' });
  await sleep(50);
  const sockets = gateway.sockets.length;
  await sleep(50);
  assert.equal(gateway.sockets.length, sockets, 'nobody takes over after a terminal refusal');
});

test('a tab that subscribes with an older position gets the replay; the other tabs see nothing twice', async (t) => {
  const gateway = new FakeGateway();
  const locks = new MemoryLocks();
  const key = 'k' + Math.random();
  const a = tabClient(gateway, locks, key);
  const b = tabClient(gateway, locks, key);
  t.after(() => [a, b].forEach((x) => x.client.close()));
  const gotA: string[] = [];
  await a.client.subscribe('room:1', (d) => gotA.push(d)).ready;
  for (const d of ['1', '2', '3']) gateway.publish('room:1', d);
  await until(() => gotA.length === 3);
  const gotB: string[] = [];
  const sub = b.client.subscribe('room:1', (d, { recovered }) => gotB.push(d + (recovered ? 'r' : '')), { since: { offset: 1, epoch: 'e1' } });
  assert.equal((await sub.ready).recovered, true);
  gateway.publish('room:1', '4');
  await until(() => gotB.length === 3 && gotA.length === 4);
  await sleep(20);
  assert.deepEqual(gotB, ['2r', '3r', '4']);
  assert.deepEqual(gotA, ['1', '2', '3', '4']);
  // and a tab up to date is answered without asking the gateway again
  const before = gateway.sent('subscribe').length;
  const c = tabClient(gateway, locks, key);
  t.after(() => c.client.close());
  await c.client.subscribe('room:1', () => {}).ready;
  assert.equal(gateway.sent('subscribe').length, before);
});

test('a new tab subscribing with a saved position gets what it missed, though the channel is live in the leader', async (t) => {
  const gateway = new FakeGateway();
  const locks = new MemoryLocks();
  const key = 'k' + Math.random();
  const a = tabClient(gateway, locks, key);
  t.after(() => a.client.close());
  const gotA: string[] = [];
  await a.client.subscribe('room:1', (d) => gotA.push(d)).ready;
  for (const d of ['1', '2', '3', '4', '5']) gateway.publish('room:1', d);
  await until(() => gotA.length === 5);
  // a reloaded tab resumes from the position it saved, subscribing before it has seen any link
  const b = tabClient(gateway, locks, key);
  t.after(() => b.client.close());
  const gotB: string[] = [];
  const sub = b.client.subscribe('room:1', (d, { recovered }) => gotB.push(d + (recovered ? 'r' : '')), { since: { offset: 2, epoch: 'e1' } });
  assert.equal((await sub.ready).recovered, true);
  gateway.publish('room:1', '6');
  await until(() => gotB.length === 4 && gotA.length === 6, 2000, 'the replay and the live one');
  await sleep(20);
  assert.deepEqual(gotB, ['3r', '4r', '5r', '6']);
  assert.deepEqual(gotA, ['1', '2', '3', '4', '5', '6']);
});

test("default sharing is per user: keyed by the token's subject; a token without one shares with no tab", async (t) => {
  const gateway = new FakeGateway(['user:{user}']);
  gateway.user = 'carol'; // who an opaque token connects as
  const locks = new MemoryLocks();
  const url = 'ws://gateway.test/ws?t=' + Math.random();
  const tokens = { a1: jwt({ sub: 'alice' }), a2: jwt({ sub: 'alice' }), b: jwt({ sub: 'bob' }), n: 'opaque' };
  const tabs = Object.fromEntries(
    Object.entries(tokens).map(([name, token]) => [name, tabClient(gateway, locks, undefined, { url, getToken: () => token })]),
  );
  t.after(() => Object.values(tabs).forEach((x) => x.client.close()));
  const users: Record<string, (string | undefined)[]> = {};
  const got: Record<string, string[]> = {};
  for (const [name, { client }] of Object.entries(tabs)) {
    client.on('connected', ({ user }) => (users[name] ??= []).push(user));
    client.on('publication', ({ channel }) => (got[name] ??= []).push(channel));
  }
  await until(() => Object.values(tabs).every((x) => x.client.state === 'connected'), 2000, 'every tab connected');
  assert.deepEqual(gateway.sockets.map((s) => s.user).sort(), ['alice', 'bob', 'carol'], "alice's two tabs share a socket, bob's and the opaque token's do not");
  assert.deepEqual(users, { a1: ['alice'], a2: ['alice'], b: ['bob'], n: ['carol'] });
  await sleep(10);
  for (const user of ['alice', 'bob', 'carol']) gateway.publish('user:' + user, 'hi');
  await until(() => Object.keys(got).length === 4);
  await sleep(20);
  assert.deepEqual(got, { a1: ['user:alice'], a2: ['user:alice'], b: ['user:bob'], n: ['user:carol'] });
});

test("a follower whose user is not the leader connection's stops following and connects on its own", async (t) => {
  const gateway = new FakeGateway(['user:{user}']);
  const locks = new MemoryLocks();
  const url = 'ws://gateway.test/ws?t=' + Math.random();
  // the leader's tab elected as alice, but its connection is bob's (someone else logged in meanwhile)
  let leaderTokens = 0;
  const a = tabClient(gateway, locks, undefined, { url, getToken: () => jwt({ sub: ++leaderTokens === 1 ? 'alice' : 'bob' }) });
  t.after(() => a.client.close());
  await until(() => a.client.state === 'connected');
  const f = tabClient(gateway, locks, undefined, { url, getToken: () => jwt({ sub: 'alice' }) });
  t.after(() => f.client.close());
  const users: (string | undefined)[] = [];
  const got: string[] = [];
  f.client.on('connected', ({ user }) => users.push(user));
  f.client.on('publication', ({ channel, data }) => got.push(channel + ' ' + data));
  await until(() => gateway.sockets.length === 2 && f.client.state === 'connected', 2000, 'its own connection');
  assert.deepEqual(users, ['alice']);
  assert.deepEqual(gateway.sockets.map((s) => s.user), ['bob', 'alice']);
  await sleep(10);
  gateway.publish('user:bob', 'for bob');
  gateway.publish('user:alice', 'for alice');
  await until(() => got.length === 1);
  await sleep(20);
  assert.deepEqual(got, ['user:alice for alice']);
});

test('subject: the sub of a JWT payload (base64url, UTF-8), or undefined', () => {
  assert.equal(subject(jwt({ sub: 'alice' })), 'alice');
  assert.equal(subject(jwt({ sub: 'zoë ✓ ?>>' })), 'zoë ✓ ?>>'); // _ in its base64url
  assert.equal(subject(jwt({ sub: 'ø~>' })), 'ø~>'); // - in its base64url
  assert.equal(subject(jwt({ sub: 42 })), undefined);
  assert.equal(subject(jwt({ name: 'alice' })), undefined);
  assert.equal(subject('opaque'), undefined);
  assert.equal(subject('a.b.c'), undefined);
});

test('encrypted channels across tabs: each tab decrypts with its own keys; between tabs only ciphertext travels, never a key', async (t) => {
  const gateway = new FakeGateway();
  const locks = new MemoryLocks();
  const key = 'k' + Math.random();
  const asked: Record<string, string[]> = { a: [], b: [], c: [] };
  const encryption = (tab: string, known: boolean): EncryptionOptions => ({
    channels: ['secret:*'],
    currentKid: () => 'k1',
    key: (channel, kid) => (asked[tab].push(channel), known && kid === 'k1' ? KEY : undefined),
  });
  const overheard: string[] = [];
  const spy = new BroadcastChannel('portcullis:' + key); // a tab of the same origin listening in
  spy.onmessage = ({ data }) => overheard.push(JSON.stringify(data));
  t.after(() => spy.close());
  const a = tabClient(gateway, locks, key, { encryption: encryption('a', true) });
  await until(() => a.client.state === 'connected', 2000, 'A leads');
  const b = tabClient(gateway, locks, key, { encryption: encryption('b', true) });
  const c = tabClient(gateway, locks, key, { encryption: encryption('c', false) }); // a tab whose application has no key
  t.after(() => [a, b, c].forEach((x) => x.client.close()));
  await until(() => b.client.state === 'connected' && c.client.state === 'connected');
  assert.equal(gateway.sockets.length, 1);

  const got: Record<string, unknown[]> = { b: [], c: [] };
  const failedC: string[] = [];
  await b.client.subscribe('secret:b-only', (d) => got.b.push(d)).ready;
  const subC = c.client.subscribe('secret:b-only', (d) => got.c.push(d));
  subC.on('decrypt_failed', (f) => failedC.push(f.reason));
  await subC.ready;
  await b.client.publish('secret:b-only', 'marker from B');
  gateway.publish('secret:b-only', nodeSeal(KEY, 'secret:b-only', 'k1', 'marker from the backend'));
  await until(() => got.b.length === 2 && failedC.length === 2);
  assert.deepEqual(got.b, ['marker from B', 'marker from the backend']);
  assert.deepEqual(got.c, []);
  assert.deepEqual(failedC, ['unknown_kid', 'unknown_kid'], "C cannot read it: B's key stayed in B");
  assert.deepEqual(asked.a, [], "the leader's keys were never asked for a channel only the others subscribe: they decrypt themselves");
  assert.ok(overheard.length > 0);
  const bus = overheard.join('\n');
  assert.ok(!bus.includes('marker'), 'no plaintext between tabs');
  assert.ok(!bus.includes(VECTORS.key) && !bus.includes(Buffer.from(KEY).toString('base64')), 'no key between tabs');
  assert.equal(nodeOpen(KEY, 'secret:b-only', gateway.sent('publish')[0].data as { iv: string; ct: string }), 'marker from B');
});

test('connect() from a listener of the events close() fires: the client leads again, and a tab that opens later follows it', async (t) => {
  const gateway = new FakeGateway();
  const locks = new MemoryLocks();
  const key = 'k' + Math.random();
  const name = 'portcullis:' + key;
  const a = tabClient(gateway, locks, key);
  t.after(() => a.client.close());
  await until(() => a.client.state === 'connected', 2000, 'A leads');
  const sub = a.client.subscribe('room:1', () => {});
  await sub.ready;
  let again = 0;
  sub.on('error', () => again++ || a.client.connect()); // the subscription ends with `closed` inside close()
  a.states.length = 0;
  a.client.close();
  assert.equal(again, 1);
  await until(() => a.client.state === 'connected', 2000, 'A connected again');
  assert.ok(locks.holders.has(name), 'A holds the tab lock again');
  const b = tabClient(gateway, locks, key);
  t.after(() => b.client.close());
  await until(() => b.client.state === 'connected', 2000, 'B follows');
  assert.equal(gateway.open().length, 1, "B follows A's link: one socket");
  const got: string[] = [];
  await b.client.subscribe('room:1', (d) => got.push(d)).ready;
  gateway.publish('room:1', 'through A');
  await until(() => got.length === 1);

  // the same from a `state` listener: no stale event of the stopped run reaches the new one
  const off = a.client.on('state', ({ state }) => state === 'closed' && (off(), a.client.connect()));
  a.states.length = 0;
  a.client.close();
  await until(() => a.client.state === 'connected' && b.client.state === 'connected', 2000, 'connected again');
  await sleep(50);
  assert.deepEqual(a.states, ['closed', 'connecting', 'connected']);
  assert.equal(gateway.open().length, 1, 'one socket for both tabs');
});
