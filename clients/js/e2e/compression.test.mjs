// Issue 14, goal 5: Chromium negotiates permessage-deflate with the gateway through the JS client;
// publications arrive compressed (one compression each, shared by every tab) and the client's own
// messages, which Chromium compresses, are inflated by the gateway.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Gateway, clientPage, launchBrowser, token, until } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

const ALERT = {
  severity: 'high', title: 'Disk usage above threshold on db-7', host: 'db-7.eu-west', metric: 'disk.used.percent',
  value: 93.4, threshold: 90, since: '2026-12-07T20:41:03Z', runbook: 'https://runbooks.example.com/disk-usage',
  tags: ['storage', 'database', 'production'],
};

const PAGE = (user) => `
const received = (window.received = []);
const client = (window.client = new PortcullisClient({
  url: 'ws://' + location.host + '/ws',
  getToken: async () => window.mintToken(${JSON.stringify(user)}),
  sharedAcrossTabs: false,
}));
window.sub = client.subscribe('alerts', (data) => received.push(data));
window.room = client.subscribe('room:7', (data) => received.push(data));
`;

async function metrics(gateway) {
  const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const value = (series) => Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? 0);
  return {
    connections: value('portcullis_compression_connections_total'),
    compressions: value('portcullis_compression_compressions_total'),
    deflated: value('portcullis_compression_deliveries_total{frame="deflate"}'),
    plain: value('portcullis_compression_deliveries_total{frame="plain"}'),
    inflated: value('portcullis_compression_inflated_bytes_total'),
  };
}

test('Chromium through the JS client: compressed publications, one compression for every tab, compressed client messages inflated', async () => {
  const gateway = await Gateway.start({ 'server.compression': 'on', 'channels.sanitize-default': 'none' });
  const context = await browser.newContext();
  await context.exposeFunction('mintToken', (user) => token(user));
  try {
    const tabs = 3;
    const pages = [];
    for (let i = 0; i < tabs; i++) {
      const page = await clientPage(context, gateway, PAGE(`zip${i}`), `zip${i}`);
      await page.evaluate(() => Promise.all([window.sub.ready, window.room.ready]));
      pages.push(page);
    }
    const before = await metrics(gateway);
    assert.equal(before.connections, tabs, 'every Chromium connection negotiated permessage-deflate');

    const publications = 5;
    for (let seq = 1; seq <= publications; seq++) {
      const { status } = await gateway.api('POST', '/api/publish', { channel: 'alerts', data: { seq, ...ALERT } });
      assert.equal(status, 200);
    }
    for (const page of pages) {
      await until(async () => (await page.evaluate(() => window.received.length)) >= publications, 'every alert in every tab');
      const received = await page.evaluate(() => window.received);
      assert.deepEqual(received.map((d) => d.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual(received[0], { seq: 1, ...ALERT }, 'inflated by Chromium to the exact data');
    }
    const afterFanout = await metrics(gateway);
    assert.equal(afterFanout.compressions - before.compressions, publications, 'one compression per publication');
    // A tab whose event loop found the other loop compressing got that publication plain (never waited).
    const deflated = afterFanout.deflated - before.deflated;
    assert.equal(deflated + afterFanout.plain - before.plain, publications * tabs, 'every delivery counted');
    assert.ok(deflated >= publications, `${deflated} compressed deliveries: each compressed frame reached a tab`);

    // The page publishes a long message: Chromium compresses it, the gateway inflates and fans it out.
    const note = { type: 'chat', roomId: '00000000-0000-4000-8000-000000000007', user: 'zip0', content: 'compressible '.repeat(40).trim() };
    const result = await pages[0].evaluate((data) => window.client.publish('room:7', data), note);
    assert.ok(result.offset >= 1);
    await until(async () => (await pages[1].evaluate(() => window.received.length)) > publications, 'the room message');
    assert.deepEqual((await pages[1].evaluate(() => window.received)).at(-1), note);
    assert.ok((await metrics(gateway)).inflated > afterFanout.inflated, 'the gateway inflated what Chromium compressed');
  } finally {
    await context.close();
    await gateway.stop();
  }
});
