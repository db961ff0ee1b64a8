// Tests 3, 4, 5 and 7: the JS client in Chromium against the real gateway jar.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Gateway, Publisher, Redis, clientPage, launchBrowser, sleep, token, until } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

/**
 * A page whose client subscribes to `channel` and records every delivery, every state change and
 * every refusal in `window.log`; tokens come from the test (`window.mintToken`), counted.
 */
const SUBSCRIBER = (channel, user, extra = '') => `
const received = (window.received = []);
window.tokens = 0;
const client = (window.client = new PortcullisClient({
  url: 'ws://' + location.host + '/ws',
  getToken: async () => { window.tokens++; return window.mintToken(${JSON.stringify(user)}); },
  sharedAcrossTabs: false,
  ${extra}
}));
for (const event of ['state', 'refused', 'disconnected']) client.on(event, (e) => window.log.push({ at: Date.now(), event, ...e }));
const sub = (window.sub = client.subscribe(${JSON.stringify(channel)}, (data, meta) => received.push({ seq: data.seq, offset: meta.offset, recovered: meta.recovered })));
sub.on('gap', () => window.log.push({ at: Date.now(), event: 'gap' }));
`;

async function newContext(mint = (user) => token(user)) {
  const context = await browser.newContext();
  await context.exposeFunction('mintToken', mint);
  return context;
}

/** Every acknowledged publication exactly once and in order. */
function assertExactlyOnceInOrder(received, acked) {
  const seqs = received.map((r) => r.seq);
  assert.deepEqual(seqs, acked.map((a) => a.seq), 'every acknowledged message once, in order');
  for (let i = 1; i < received.length; i++) assert.equal(received[i].offset, received[i - 1].offset + 1, 'offsets without a hole');
}

test('test 3: SIGTERM and restart of the gateway (Redis broker) while a backend publishes every 100 ms: every message once, in order', async () => {
  const redis = await Redis.start();
  const gateway = await Gateway.start({ 'broker.type': 'redis', 'broker.redis-url': redis.url });
  const context = await newContext();
  try {
    const channel = 'alerts';
    const page = await clientPage(context, gateway, SUBSCRIBER(channel, 'rita'));
    await page.evaluate(() => window.sub.ready);
    const publisher = new Publisher(gateway, channel).start(100);
    await until(async () => (await page.evaluate(() => window.received.length)) >= 10, 'ten live messages');

    await gateway.stop(); // graceful: 1001 with a reconnect hint
    await sleep(1500); // the backend keeps trying; nothing can be published while the only gateway is away
    await gateway.launch();
    const ackedByRestart = publisher.acked.length;
    await until(async () => (await page.evaluate(() => window.received.length)) >= ackedByRestart + 10, 'messages after the restart', 30_000);
    const acked = await publisher.stop();
    await until(async () => (await page.evaluate(() => window.received.length)) >= acked.length, 'the last messages');

    const received = await page.evaluate(() => window.received);
    assertExactlyOnceInOrder(received, acked);
    const log = await page.evaluate(() => window.log);
    assert.ok(log.some((e) => e.event === 'disconnected' && e.code === 1001 && e.willReconnect), 'the drain was seen as 1001');
    assert.ok(!log.some((e) => e.event === 'gap'), 'no gap');
    assert.equal(log.filter((e) => e.event === 'state').at(-1).state, 'connected');
  } finally {
    await context.close();
    await gateway.stop();
    redis.stop();
  }
});

test('test 4: with auth.reauth-interval 3s the page stays connected for 20 s, answering every reauth with a fresh token', async () => {
  const gateway = await Gateway.start({ 'auth.reauth-interval': '3s', 'auth.reauth-grace': '2s' });
  const context = await newContext((user) => token(user, { ttlSec: 60 }));
  try {
    const page = await clientPage(context, gateway, SUBSCRIBER('alerts', 'reggie'));
    await page.evaluate(() => window.sub.ready);
    const connectionsBefore = await gateway.connections('reggie');
    await sleep(20_000);
    const tokens = await page.evaluate(() => window.tokens);
    assert.ok(tokens >= 5, `getToken called ${tokens} times`);
    const log = await page.evaluate(() => window.log);
    assert.deepEqual(log.filter((e) => e.event === 'disconnected'), [], 'never disconnected');
    assert.equal(await page.evaluate(() => window.client.state), 'connected');
    const connectionsAfter = await gateway.connections('reggie');
    assert.equal(connectionsAfter.length, 1);
    assert.equal(connectionsAfter[0].id, connectionsBefore[0].id, 'the same connection all along');
  } finally {
    await context.close();
    await gateway.stop();
  }
});

test('test 5: an expired token is refused with 401 expired; after five quick connects the next gets 429 and the client waits Retry-After', async () => {
  const gateway = await Gateway.start({ 'limits.connect-attempts-per-user-per-minute': '5' });
  try {
    // Expired: the refusal reason reaches the page, though the browser hides the upgrade's status.
    const expiredContext = await newContext((user) => token(user, { exp: Math.floor(Date.now() / 1000) - 60 }));
    const expiredPage = await clientPage(expiredContext, gateway, SUBSCRIBER('alerts', 'old'));
    const refused = await until(async () => (await expiredPage.evaluate(() => window.log)).find((e) => e.event === 'refused'),
      'the 401 refusal');
    assert.equal(refused.status, 401);
    assert.equal(refused.error, 'expired');
    await expiredContext.close();

    // Five quick connections of one user use the minute's attempts (real WebSockets from Node)...
    for (let i = 0; i < 5; i++) {
      const socket = new WebSocket(`${gateway.wsUrl}?token=${token('quick')}`);
      await new Promise((resolve, reject) => { socket.once('message', resolve); socket.once('error', reject); });
      socket.close();
    }
    // ...so the page's attempt is refused with 429, and the client waits at least Retry-After.
    const context = await newContext();
    const page = await clientPage(context, gateway, SUBSCRIBER('alerts', 'quick', `
      WebSocket: class extends WebSocket { constructor(...args) { super(...args); window.log.push({ at: Date.now(), event: 'attempt' }); } },`));
    const limited = await until(async () => (await page.evaluate(() => window.log)).find((e) => e.event === 'refused'), 'the 429 refusal');
    assert.equal(limited.status, 429);
    assert.equal(limited.error, 'attempt_rate');
    assert.ok(limited.retryAfterMs >= 1000, `retryAfterMs ${limited.retryAfterMs}`);
    await page.evaluate(() => window.sub.ready);
    const log = await page.evaluate(() => window.log);
    const attempts = log.filter((e) => e.event === 'attempt').map((e) => e.at);
    assert.ok(attempts.length >= 2);
    const refusedAt = log.find((e) => e.event === 'refused').at;
    const next = attempts.find((at) => at > refusedAt);
    assert.ok(next - refusedAt >= limited.retryAfterMs, `waited ${next - refusedAt} ms of ${limited.retryAfterMs}`);
    await context.close();
  } finally {
    await gateway.stop();
  }
});

test('test 7: offline for 10 s: no reconnect storm; back online it reconnects and recovers what it missed', async () => {
  const gateway = await Gateway.start();
  const context = await newContext();
  try {
    const channel = 'alerts';
    const page = await clientPage(context, gateway, SUBSCRIBER(channel, 'otto', `
      WebSocket: class extends WebSocket { constructor(...args) { super(...args); window.log.push({ at: Date.now(), event: 'attempt' }); } },`));
    await page.evaluate(() => window.sub.ready);
    const publisher = new Publisher(gateway, channel).start(200);
    await until(async () => (await page.evaluate(() => window.received.length)) >= 3, 'live messages');

    const offlineAt = Date.now();
    await context.setOffline(true);
    await sleep(10_000);
    const onlineAt = Date.now();
    await context.setOffline(false);
    const attemptsOffline = (await page.evaluate(() => window.log))
      .filter((e) => e.event === 'attempt' && e.at >= offlineAt && e.at < onlineAt).length;
    assert.ok(attemptsOffline <= 1, `${attemptsOffline} connection attempts while offline`);

    await until(async () => (await page.evaluate(() => window.received.length)) >= publisher.acked.length, 'the missed messages', 20_000);
    const acked = await publisher.stop();
    await until(async () => (await page.evaluate(() => window.received.length)) >= acked.length, 'the last messages');
    const received = await page.evaluate(() => window.received);
    assertExactlyOnceInOrder(received, acked);
    assert.ok(received.some((r) => r.recovered), 'some came from the history after the reconnect');
    assert.equal(await page.evaluate(() => window.client.state), 'connected');
  } finally {
    await context.close();
    await gateway.stop();
  }
});
