import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { FakeGateway, closeClients, setup, until } from './fake-gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(closeClients);

test('connects with the token in the subprotocol list, subscribes, publishes and receives', async () => {
  const { client, gateway, events } = setup();
  const got: unknown[] = [];
  const sub = client.subscribe('room:1', (data, meta) => got.push([data, meta.offset, meta.recovered]));
  assert.deepEqual(await sub.ready, { offset: 0, epoch: 'e1', recovered: false });
  const socket = gateway.sockets[0];
  assert.deepEqual(socket.protocols, ['portcullis.v1', 'portcullis.bearer.token1']);
  assert.ok(!socket.url.includes('token'));
  const { offset, epoch, idempotencyKey } = await client.publish('room:1', { text: 'hi' });
  assert.equal(offset, 1);
  assert.equal(epoch, 'e1');
  assert.match(idempotencyKey, /^[0-9a-f]{32}$/);
  assert.equal(gateway.sent('publish')[0].idempotencyKey, idempotencyKey);
  assert.equal(typeof gateway.sent('publish')[0].id, 'number');
  await until(() => got.length === 1);
  assert.deepEqual(got, [[{ text: 'hi' }, 1, false]]);
  const page = await client.history('room:1', { limit: 10 });
  assert.deepEqual(page, { channel: 'room:1', offset: 1, epoch: 'e1', complete: true, publications: [{ offset: 1, data: { text: 'hi' } }] });
  client.close();
  assert.deepEqual(events, ['connecting', 'connected', 'closed']);
});

test('reconnect: every subscription resumes from its last offset, missed publications arrive once, in order, flagged recovered', async () => {
  const { client, gateway, tokens } = setup();
  const got: string[] = [];
  const disconnected: unknown[] = [];
  client.on('disconnected', (d) => disconnected.push(d));
  await client.subscribe('room:1', (data, { recovered }) => got.push(data + (recovered ? 'r' : ''))).ready;
  gateway.publish('room:1', 'a');
  gateway.publish('room:1', 'b');
  await until(() => got.length === 2);
  gateway.sockets[0].kill(4002, 'heartbeat timeout');
  gateway.publish('room:1', 'c'); // missed while away
  gateway.publish('room:1', 'd');
  await until(() => got.length === 4, 2000, 'the replay');
  gateway.publish('room:1', 'e');
  await until(() => got.length === 5);
  assert.deepEqual(got, ['a', 'b', 'cr', 'dr', 'e']);
  const resubscribe = gateway.sent('subscribe').at(-1)!;
  assert.deepEqual(resubscribe.since, { offset: 2, epoch: 'e1' });
  assert.equal(tokens(), 2, 'a fresh token for the new connection');
  assert.equal(disconnected.length, 1);
  assert.deepEqual({ ...(disconnected[0] as object), delayMs: 0 }, { code: 4002, reason: 'heartbeat timeout', willReconnect: true, delayMs: 0 });
  client.close();
});

test('a resume the history cannot cover fires the subscription gap event', async () => {
  const { client, gateway } = setup();
  const sub = client.subscribe('room:1', () => {});
  await sub.ready;
  gateway.publish('room:1', 'a');
  await until(() => sub.position?.offset === 1);
  const gaps: unknown[] = [];
  sub.on('gap', (g) => gaps.push(g));
  gateway.sockets[0].kill();
  gateway.chan('room:1').epoch = 'e2'; // the gateway lost the channel's history
  await until(() => gaps.length === 1);
  assert.deepEqual(gaps, [{ offset: 1, epoch: 'e2' }]);
  client.close();
});

test('automatic channels: publication events, and recovery through the recover query parameter', async () => {
  const { client, gateway } = setup();
  const got: unknown[] = [];
  client.on('publication', (p) => got.push([p.channel, p.data, p.offset, p.recovered]));
  await until(() => client.state === 'connected');
  await sleep(5);
  gateway.publish('user:alice', 'hello');
  await until(() => got.length === 1);
  gateway.sockets[0].kill();
  gateway.publish('user:alice', 'missed');
  await until(() => got.length === 2, 2000, 'the recovered publication');
  const url = new URL(gateway.sockets[1].url);
  assert.deepEqual(JSON.parse(url.searchParams.get('recover')!), { 'user:alice': { offset: 1, epoch: 'e1' } });
  assert.deepEqual(got, [['user:alice', 'hello', 1, false], ['user:alice', 'missed', 2, true]]);
  // subscribe() works for an automatic channel too, and continues from where the event left off
  const seen: unknown[] = [];
  const sub = client.subscribe('user:alice', (data) => seen.push(data));
  await sub.ready;
  assert.deepEqual(gateway.sent('subscribe').at(-1)!.since, { offset: 2, epoch: 'e1' });
  gateway.publish('user:alice', 'third');
  await until(() => seen.length === 1);
  assert.deepEqual(seen, ['third']);
  assert.equal(got.length, 2);
  client.close();
});

test('a refused subscribe rejects ready and is not retried', async () => {
  const { client, gateway } = setup();
  gateway.forbidden.add('secret');
  const sub = client.subscribe('secret', () => {});
  await assert.rejects(sub.ready, { name: 'PortcullisError', code: 'forbidden' });
  assert.equal(sub.active, false);
  gateway.sockets[0].kill();
  await until(() => gateway.open().length === 1);
  await sleep(20);
  assert.equal(gateway.sent('subscribe').length, 1);
  // and the channel may be subscribed again
  gateway.forbidden.clear();
  await client.subscribe('secret', () => {}).ready;
  client.close();
});

test('permission withdrawn by a re-auth (unrequested forbidden error) ends the subscription with an error event', async () => {
  const { client, gateway } = setup();
  const sub = client.subscribe('room:1', () => {});
  await sub.ready;
  const errors: unknown[] = [];
  sub.on('error', (e) => errors.push(e.code));
  gateway.sockets[0].push({ type: 'error', code: 'forbidden', channel: 'room:1', message: 'read permission for room:1 was withdrawn; unsubscribed' });
  await until(() => errors.length === 1);
  assert.equal(sub.active, false);
  assert.throws(() => client.subscribe('room:2', () => {}) && client.subscribe('room:2', () => {}), { code: 'already_subscribed' });
  client.close();
});

test('publishes made offline wait in the queue; a publish in flight is re-sent with its key after the reconnect', async () => {
  const { client, gateway } = setup({ autoConnect: false, maxQueue: 3 });
  const early = client.publish('room:1', 'queued before connect');
  client.connect();
  assert.equal((await early).offset, 1);
  gateway.holdPublishAcks = true;
  const inflight = client.publish('room:1', 'in flight');
  await until(() => gateway.sent('publish').length === 2);
  gateway.sockets[0].kill();
  gateway.holdPublishAcks = false;
  const result = await inflight;
  const [, first, again] = gateway.sent('publish');
  assert.equal(first.idempotencyKey, again.idempotencyKey);
  assert.equal(result.offset, 2, 'the gateway published it once');
  assert.equal(gateway.chan('room:1').log.length, 2);
  client.close();
});

test('the queue bound rejects at once with queue_full', async () => {
  const { client } = setup({ autoConnect: false, maxQueue: 2 });
  const a = client.publish('room:1', 1);
  const b = client.publish('room:1', 2);
  await assert.rejects(client.publish('room:1', 3), { code: 'queue_full' });
  client.close();
  await assert.rejects(a, { code: 'closed' });
  await assert.rejects(b, { code: 'closed' });
});

test('close(): every pending promise rejects with closed; later calls too', async () => {
  const gateway = new FakeGateway();
  gateway.refuse = true;
  const { client } = setup({}, gateway);
  const sub = client.subscribe('room:1', () => {});
  const publish = client.publish('room:1', 'x');
  const history = client.history('room:1');
  await sleep(10);
  client.close();
  await assert.rejects(sub.ready, { code: 'closed' });
  await assert.rejects(publish, { code: 'closed' });
  await assert.rejects(history, { code: 'closed' });
  await assert.rejects(client.publish('room:1', 'y'), { code: 'closed' });
  await assert.rejects(client.subscribe('room:2', () => {}).ready, { code: 'closed' });
  assert.equal(client.state, 'closed');
});

test('refusals: 401 gets a fresh token and one immediate retry; refused is emitted', async () => {
  const gateway = new FakeGateway();
  gateway.refuse = true;
  const probes: string[] = [];
  const { client, tokens } = setup(
    {
      backoffBaseMs: 200,
      backoffCapMs: 400,
      fetch: async (url, init) => {
        probes.push(String(url) + ' ' + (init!.headers as Record<string, string>).authorization);
        return new Response('{"error":"expired","message":"token expired"}', { status: 401 });
      },
    },
    gateway,
  );
  const refused: unknown[] = [];
  const disconnected: { delayMs?: number }[] = [];
  client.on('refused', (r) => refused.push(r));
  client.on('disconnected', (d) => disconnected.push(d));
  await until(() => refused.length === 2);
  assert.equal(probes[0], 'http://gateway.test/ws Bearer token1');
  assert.equal(probes[1], 'http://gateway.test/ws Bearer token2');
  assert.deepEqual(refused[0], { status: 401, error: 'expired', message: 'token expired', retryAfterMs: undefined });
  assert.equal(disconnected[0].delayMs, 0, 'the first 401 is retried at once');
  assert.ok(disconnected[1].delayMs! >= 200, 'the second waits for the backoff');
  assert.equal(tokens(), 2);
  client.close();
});

test('refusals: 429 waits at least Retry-After; 403 stops for good', async () => {
  const gateway = new FakeGateway();
  gateway.refuse = true;
  let answer = new Response('{"error":"attempt_rate"}', { status: 429, headers: { 'retry-after': '2' } });
  const { client, events } = setup({ fetch: async () => answer }, gateway);
  const disconnected: { willReconnect: boolean; delayMs?: number }[] = [];
  const refused: { status: number; retryAfterMs?: number }[] = [];
  client.on('disconnected', (d) => disconnected.push(d));
  client.on('refused', (r) => refused.push(r));
  await until(() => disconnected.length === 1);
  assert.equal(refused[0].retryAfterMs, 2000);
  assert.ok(disconnected[0].delayMs! >= 2000);
  client.close();

  answer = new Response('{"error":"origin"}', { status: 403 });
  const second = setup({ fetch: async () => answer }, gateway);
  const pending = second.client.publish('room:1', 'x');
  const ended: { willReconnect: boolean }[] = [];
  second.client.on('disconnected', (d) => ended.push(d));
  await assert.rejects(pending, { code: 'closed' });
  assert.equal(ended[0].willReconnect, false);
  assert.equal(second.client.state, 'closed');
  assert.deepEqual(second.events, ['connecting', 'closed']);
  assert.deepEqual(events, ['connecting', 'reconnecting', 'closed']);
});

test('a probe that fails, or finds the gateway willing, means plain backoff and no refused event', async () => {
  const gateway = new FakeGateway();
  gateway.refuse = true;
  const { client } = setup({ fetch: async () => Promise.reject(new TypeError('network')) }, gateway);
  let refused = 0;
  client.on('refused', () => refused++);
  await until(() => gateway.sockets.length >= 3);
  gateway.refuse = false;
  await until(() => client.state === 'connected');
  assert.equal(refused, 0);
  client.close();
});

test('terminal close codes stop for good: 4501 logout', async () => {
  const { client, gateway } = setup();
  await until(() => client.state === 'connected');
  const ended: unknown[] = [];
  client.on('disconnected', (d) => ended.push(d));
  const sub = client.subscribe('room:1', () => {});
  await sub.ready;
  const subErrors: string[] = [];
  sub.on('error', (e) => subErrors.push(e.code));
  gateway.sockets[0].kill(4501, 'logged out');
  await until(() => client.state === 'closed');
  assert.deepEqual(ended, [{ code: 4501, reason: 'logged out', willReconnect: false }]);
  assert.deepEqual(subErrors, ['closed']);
  await sleep(30);
  assert.equal(gateway.sockets.length, 1);
  await assert.rejects(client.publish('room:1', 'x'), { code: 'closed' });
});

test("the disconnect message's retryAfterMs decides the wait", async () => {
  const { client, gateway } = setup();
  await until(() => client.state === 'connected');
  const delays: number[] = [];
  client.on('disconnected', (d) => delays.push(d.delayMs!));
  gateway.sockets[0].push({ type: 'disconnect', code: 1001, reason: 'server shutting down', retryAfterMs: 300 });
  await sleep(5);
  gateway.sockets[0].kill(1001, 'server shutting down');
  await until(() => delays.length === 1);
  assert.ok(delays[0] >= 300 && delays[0] <= 305, String(delays[0]));
  client.close();
});

test('liveness: a ping after silence; no answer in time -> reconnect', async () => {
  const { client, gateway } = setup({ pingAfterMs: 40, pongTimeoutMs: 40 });
  await until(() => client.state === 'connected');
  await until(() => gateway.sent('ping').length === 1, 500, 'a ping');
  assert.equal(typeof gateway.sent('ping')[0].id, 'number');
  await sleep(60); // answered (the fake gateway pongs): still the same socket
  assert.equal(gateway.sockets.length, 1);
  const socket = gateway.sockets[0];
  socket.push = () => {}; // the path goes silent
  await until(() => gateway.sockets.length === 2, 1000, 'a reconnect');
  client.close();
});

test('reauth: answered with a fresh token before the deadline, retrying a failing getToken', async () => {
  let calls = 0;
  const { client, gateway } = setup({
    getToken: async () => {
      calls++;
      if (calls === 2) throw new Error('token service hiccup');
      return 'tok' + calls;
    },
  });
  await until(() => client.state === 'connected');
  gateway.sockets[0].push({ type: 'reauth', deadlineMs: Date.now() + 400 });
  await until(() => gateway.sent('auth').length === 1, 1000, 'auth');
  assert.equal(gateway.sent('auth')[0].token, 'tok3');
  client.close();
});

test('offline: no attempts while navigator.onLine is false; the offline event drops the socket; the online event connects', async () => {
  const g = globalThis as any;
  const listeners: Record<string, () => void> = {};
  const saved = Object.getOwnPropertyDescriptor(g, 'navigator');
  Object.defineProperty(g, 'navigator', { value: { onLine: false }, configurable: true });
  g.addEventListener = (type: string, fn: () => void) => (listeners[type] = fn);
  g.removeEventListener = (type: string) => delete listeners[type];
  try {
    const { client, gateway } = setup();
    await sleep(30);
    assert.equal(gateway.sockets.length, 0);
    assert.equal(client.state, 'connecting');
    g.navigator.onLine = true;
    listeners.online();
    await until(() => client.state === 'connected');
    // Going offline drops the socket at once (it may take the OS minutes to notice), and nothing
    // is attempted until the network is back.
    g.navigator.onLine = false;
    listeners.offline();
    assert.equal(gateway.sockets[0].state, 'closed');
    await until(() => client.state === 'reconnecting');
    await sleep(60);
    assert.equal(gateway.sockets.length, 1, 'no attempt while offline');
    g.navigator.onLine = true;
    listeners.online();
    await until(() => client.state === 'connected');
    assert.equal(gateway.sockets.length, 2);
    client.close();
    assert.equal(listeners.online, undefined);
    assert.equal(listeners.offline, undefined);
  } finally {
    delete g.addEventListener;
    delete g.removeEventListener;
    if (saved) Object.defineProperty(g, 'navigator', saved);
    else delete g.navigator;
  }
});

test('a publication on its way when the last subscriber leaves does not turn the channel automatic', async () => {
  const { client, gateway } = setup();
  const publications: unknown[] = [];
  client.on('publication', (p) => publications.push(p.channel));
  const sub = client.subscribe('room:1', () => {});
  await sub.ready;
  gateway.publish('room:1', 'in flight'); // sent to the client before the gateway sees the unsubscribe
  sub.unsubscribe();
  await until(() => gateway.sent('unsubscribe').length === 1);
  await sleep(20);
  gateway.publish('user:alice', 'hello'); // a real automatic channel still is one
  await until(() => publications.length === 1);
  gateway.sockets[0].kill();
  await until(() => gateway.open().length === 1 && client.state === 'connected');
  assert.deepEqual(publications, ['user:alice']);
  assert.deepEqual(JSON.parse(new URL(gateway.open()[0].url).searchParams.get('recover')!), { 'user:alice': { offset: 1, epoch: 'e1' } });
  client.close();
});

test('recover: at most 64 channels, the most recently active, and about 6 KB of query', async () => {
  for (const name of ['auto:', 'auto:' + 'x'.repeat(120) + '-']) {
    const channels = Array.from({ length: 100 }, (_, i) => name + i);
    const { client, gateway } = setup({}, new FakeGateway(channels));
    const got: string[] = [];
    client.on('publication', (p) => got.push(p.channel));
    await until(() => client.state === 'connected');
    await sleep(5);
    for (const c of [...channels].reverse()) gateway.publish(c, 'x'); // the last one published first
    gateway.publish(name + 99, 'y'); // and active again
    await until(() => got.length === 101);
    gateway.sockets[0].kill();
    await until(() => gateway.open().length === 1 && client.state === 'connected');
    const url = gateway.open()[0].url;
    const recover = Object.keys(JSON.parse(new URL(url).searchParams.get('recover')!));
    assert.ok(recover.length <= 64 && url.length <= 6100, `${recover.length} channels, ${url.length} characters`);
    assert.ok(recover.length >= (name.length > 10 ? 30 : 64), `${recover.length} channels`);
    assert.deepEqual(recover.slice(0, 3), [name + 99, name + 0, name + 1], 'the most recently active first');
    client.close();
  }
});

test('close() then connect(): what is published before the new link is up goes out on it', async () => {
  const { client } = setup({ requestTimeoutMs: 500 });
  await until(() => client.state === 'connected');
  client.close();
  client.connect();
  const result = await client.publish('room:1', 'x');
  assert.equal(result.offset, 1);
  assert.equal((await client.history('room:1')).publications.length, 1);
  client.close();
});

test('refusals: only a gateway JSON answer counts; a proxy page or a rate-limited probe is plain backoff', async () => {
  const gateway = new FakeGateway();
  gateway.refuse = true;
  const html = { 'content-type': 'text/html' };
  const answers = [
    () => new Response('<html><body>403 Forbidden</body></html>', { status: 403, headers: html }),
    () => new Response('<html>Not Found</html>', { status: 404, headers: html }),
    () => new Response('', { status: 405 }),
    () => new Response('{"message":"blocked by policy"}', { status: 400 }),
    () => new Response('{"error":"upgrade_required","message":"use a WebSocket"}', { status: 426 }),
    () => new Response('{"error":"probe_rate","message":"too many probes"}', { status: 429, headers: { 'retry-after': '60' } }),
  ];
  let probes = 0;
  const { client } = setup({ fetch: async () => (answers[probes++] ?? (() => new Response('{"error":"not_found","message":"no such path"}', { status: 404 })))() }, gateway);
  const refused: unknown[] = [];
  const disconnected: { willReconnect: boolean; delayMs?: number }[] = [];
  client.on('refused', (r) => refused.push(r));
  client.on('disconnected', (d) => disconnected.push(d));
  await until(() => disconnected.at(-1)?.willReconnect === false, 3000, 'the stop on a gateway 404');
  assert.equal(client.state, 'closed');
  assert.equal(probes, answers.length + 1);
  assert.deepEqual(refused, [{ status: 404, error: 'not_found', message: 'no such path', retryAfterMs: undefined }]);
  assert.deepEqual(disconnected.map((d) => d.willReconnect), [...answers.map(() => true), false]);
  assert.ok(disconnected.every((d) => !(d.delayMs! > 1000)), 'probe_rate says nothing about the upgrade: no Retry-After wait');
});

test('a getToken that never settles is a failed attempt after connectTimeoutMs', async () => {
  let calls = 0;
  const { client, gateway } = setup({ connectTimeoutMs: 50, getToken: () => (++calls === 1 ? new Promise<string>(() => {}) : 'token' + calls) });
  const disconnected: unknown[] = [];
  client.on('disconnected', (d) => disconnected.push({ ...d, delayMs: 0 }));
  await until(() => client.state === 'connected', 2000, 'connected with the second token');
  assert.deepEqual(disconnected, [{ code: 1006, reason: 'connect timeout', willReconnect: true, delayMs: 0 }]);
  assert.equal(gateway.sockets.length, 1);
  assert.equal(gateway.sockets[0].token, 'token2');
  client.close();
});

test('presence lists the channel\'s members; join and leave of a subscribed channel are events, others are ignored', async () => {
  const { client, gateway } = setup();
  const events: unknown[] = [];
  client.on('join', (e) => events.push(['join', e]));
  client.on('leave', (e) => events.push(['leave', e]));
  await client.subscribe('room:1', () => {}).ready;
  const list = await client.presence('room:1');
  assert.equal(gateway.sent('presence')[0].channel, 'room:1');
  assert.equal(typeof gateway.sent('presence')[0].id, 'number');
  assert.deepEqual(list, { channel: 'room:1', members: [{ user: gateway.sockets[0].user ?? 'anonymous', connection: 'conn0', since: 1000 }], complete: true });
  const socket = gateway.sockets[0];
  socket.push({ type: 'join', channel: 'room:9', user: 'eve', connection: 'c9' }); // not subscribed here: ignored
  socket.push({ type: 'join', channel: 'room:1', user: 'bob', connection: 'c2' });
  socket.push({ type: 'leave', channel: 'room:1', user: 'bob', connection: 'c2' });
  await until(() => events.length === 2);
  assert.deepEqual(events, [
    ['join', { channel: 'room:1', user: 'bob', connection: 'c2' }],
    ['leave', { channel: 'room:1', user: 'bob', connection: 'c2' }],
  ]);
});

test('connect() from a listener of a terminal close (disconnected, state closed, a subscription error): the client connects again', async () => {
  for (const from of ['disconnected', 'state', 'error'] as const) {
    const { client, gateway, events } = setup();
    await until(() => client.state === 'connected');
    const sub = client.subscribe('room:1', () => {});
    await sub.ready;
    let again = 0;
    const reconnect = () => again++ || client.connect();
    if (from === 'disconnected') client.on('disconnected', ({ willReconnect }) => willReconnect || reconnect());
    if (from === 'state') client.on('state', ({ state }) => state === 'closed' && reconnect());
    if (from === 'error') sub.on('error', reconnect);
    gateway.sockets[0].kill(4501, 'logged out');
    await until(() => again === 1, 2000, from);
    await until(() => client.state === 'connected', 2000, 'connected again from ' + from);
    // (connected again from the final `disconnected`, before the state came to `closed`: it never does)
    const closed = from === 'disconnected' ? [] : ['closed'];
    assert.deepEqual(events, ['connecting', 'connected', ...closed, 'connecting', 'connected'], from);
    assert.equal(gateway.open().length, 1);
    const got: string[] = [];
    await client.subscribe('room:1', (d) => got.push(d)).ready;
    gateway.publish('room:1', 'again');
    await until(() => got.length === 1, 2000, 'a publication after connecting again from ' + from);
    client.close();
  }
});
