// Test 6: three tabs of one user in one browser context share one WebSocket; when the leader tab
// closes, another takes over within 5 s and no publication made meanwhile is lost or doubled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Gateway, Publisher, clientPage, launchBrowser, sleep, token, until } from './harness.mjs';

let browser;
let gateway;
before(async () => {
  browser = await launchBrowser();
  gateway = await Gateway.start();
});
after(async () => {
  await browser?.close();
  await gateway?.stop();
});

/** A tab: its own client (shared across tabs by default), a subscription, and the sockets it opened itself. */
const TAB = (channel) => `
window.sockets = [];
const received = (window.received = []);
const client = (window.client = new PortcullisClient({
  url: 'ws://' + location.host + '/ws',
  getToken: () => window.mintToken('tess'),
  WebSocket: class extends WebSocket { constructor(...args) { super(...args); window.sockets.push(this); } },
}));
const sub = (window.sub = client.subscribe(${JSON.stringify(channel)}, (data, meta) => received.push({ seq: data.seq, offset: meta.offset })));
sub.on('gap', () => window.log.push('gap'));
`;

const openSocket = (page) => page.evaluate(() => window.sockets.some((s) => s.readyState === WebSocket.OPEN));

test('test 6: three tabs, one connection; the leader closes, another takes over within 5 s, nothing lost', async () => {
  const context = await browser.newContext();
  await context.exposeFunction('mintToken', (user) => token(user));
  const channel = 'alerts';
  const tabs = [];
  for (let i = 0; i < 3; i++) {
    tabs.push(await clientPage(context, gateway, TAB(channel), `tab${i}`));
    await tabs[i].evaluate(() => window.sub.ready);
  }
  await sleep(1000); // let any extra connection show up before counting
  assert.equal((await gateway.connections('tess')).length, 1, 'one connection for three tabs');
  const holders = [];
  for (const tab of tabs) if (await openSocket(tab)) holders.push(tab);
  assert.equal(holders.length, 1, 'exactly one tab holds a socket');
  const leader = holders[0];

  const publisher = new Publisher(gateway, channel).start(100);
  await until(async () => {
    for (const tab of tabs) if ((await tab.evaluate(() => window.received.length)) < 10) return false;
    return true;
  }, 'every tab receiving');

  const closedAt = Date.now();
  await leader.close({ runBeforeUnload: false });
  const rest = tabs.filter((tab) => tab !== leader);
  await until(async () => {
    for (const tab of rest) if (await openSocket(tab)) return true;
    return false;
  }, 'another tab to take over', 5_000, 50);
  await until(async () => (await gateway.connections('tess')).length === 1, 'the new connection', 5_000, 50);
  const tookOverMs = Date.now() - closedAt;
  console.log(`# take-over in ${tookOverMs} ms`);
  assert.ok(tookOverMs <= 5_000);

  await sleep(1500);
  const acked = await publisher.stop();
  for (const tab of rest) {
    await until(async () => (await tab.evaluate(() => window.received.length)) >= acked.length, 'the last messages in every tab');
    const received = await tab.evaluate(() => window.received);
    assert.deepEqual(received.map((r) => r.seq), acked.map((a) => a.seq), 'every publication once, in order, in every tab');
    assert.deepEqual(await tab.evaluate(() => window.log), [], 'no gap');
  }
  assert.equal((await gateway.connections('tess')).length, 1);
  await context.close();
});
