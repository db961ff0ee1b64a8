// Issue 11 in the browser: a page in Chromium (the built bundle, Chromium's Web Crypto) and a Node
// client instance (Node's Web Crypto) on one end-to-end encrypted channel of the real gateway jar
// (channels.encrypted), and acceptance 2: tampered ct, tampered iv, unknown kid and an envelope
// re-published from another channel, sent raw through the backend API, each give decrypt_failed
// with its offset in the page, and the next good message still arrives.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { PortcullisClient } from '../dist/portcullis.js';
import { Gateway, clientPage, encryptedPage, launchBrowser, token, until } from './harness.mjs';

const K1 = randomBytes(32);
const CHANNELS = { 'secret:*': 'rw', 'room:*': 'rw' };

let browser;
let gateway;
const clients = [];
before(async () => {
  browser = await launchBrowser();
  gateway = await Gateway.start({
    'channels.encrypted': ['secret:*'],
    'history.channels': ['secret:*=100/24h', 'room:*=100/24h'],
  });
});
after(async () => {
  clients.forEach((c) => c.close());
  await browser?.close();
  await gateway?.stop();
});

/** A Node client of the gateway; with `encryption`, it encrypts and decrypts `secret:*` with k1. */
function nodeClient(user, encrypted) {
  const client = new PortcullisClient({
    url: gateway.wsUrl,
    getToken: () => token(user, { channels: CHANNELS }),
    WebSocket,
    encryption: encrypted ? { channels: ['secret:*'], currentKid: () => 'k1', key: (_, kid) => (kid === 'k1' ? K1 : undefined) } : undefined,
  });
  clients.push(client);
  return client;
}

/** Subscribes `client` to `channel`, collecting what it delivers. */
async function collect(client, channel) {
  const got = [];
  const sub = client.subscribe(channel, (data, { offset }) => got.push({ data, offset }));
  await sub.ready;
  return got;
}

/** base64url text with its middle character changed: other bytes, still a well-formed envelope for the gateway. */
const changed = (text) => text.slice(0, text.length >> 1) + (text[text.length >> 1] === 'A' ? 'B' : 'A') + text.slice((text.length >> 1) + 1);

test('Chromium and a Node client on an encrypted channel decrypt each other; tampered, unknown-kid and replayed envelopes give decrypt_failed, and the next good one arrives', async () => {
  const context = await browser.newContext();
  await context.exposeFunction('mintToken', (user) => token(user, { channels: CHANNELS }));
  try {
    const page = await clientPage(context, gateway, encryptedPage({
      user: 'paula', channels: ['secret:*'], keys: { k1: K1.toString('base64url') }, currentKid: 'k1',
    }), 'encrypted');
    await page.evaluate(() => window.subscribe('secret:room'));
    const node = nodeClient('nora', true);
    const nodeGot = await collect(node, 'secret:room');
    const raw = nodeClient('ray', false); // no keys: sees what the gateway stores and sends
    const rawGot = await collect(raw, 'secret:room');
    const rawOther = await collect(raw, 'secret:other');

    // Node -> Chromium, Chromium -> Node
    const fromNode = await node.publish('secret:room', { text: 'marker-from-node ✓', n: 1 });
    const fromPage = await page.evaluate(() => window.publish('secret:room', { text: 'marker-from-chromium ✓', n: 2 }));
    await until(async () => (await page.evaluate(() => window.received['secret:room'].length)) === 2, 'both in the page');
    await until(() => nodeGot.length === 2 && rawGot.length === 2, 'both in Node');
    const expected = [
      { data: { text: 'marker-from-node ✓', n: 1 }, offset: fromNode.offset },
      { data: { text: 'marker-from-chromium ✓', n: 2 }, offset: fromPage },
    ];
    assert.deepEqual((await page.evaluate(() => window.received['secret:room'])).map(({ data, offset }) => ({ data, offset })), expected);
    assert.deepEqual(nodeGot, expected);
    for (const { data } of rawGot) {
      assert.deepEqual(Object.keys(data), ['v', 'kid', 'iv', 'ct'], 'the gateway relays only the envelope');
      assert.doesNotMatch(JSON.stringify(data), /marker/);
    }
    await assert.rejects(raw.publish('secret:room', { text: 'plain' }), { code: 'invalid_message' }, 'plaintext is refused (acceptance 4)');

    // Acceptance 2: raw envelopes through the backend API
    await node.publish('secret:other', 'said in another room');
    await until(() => rawOther.length === 1, 'the envelope of the other channel');
    const good = rawGot[0].data;
    const bad = [
      [{ ...good, ct: changed(good.ct) }, 'k1', 'authentication_failed'],
      [{ ...good, iv: changed(good.iv) }, 'k1', 'authentication_failed'],
      [{ ...good, kid: 'k-unknown' }, 'k-unknown', 'unknown_kid'],
      [rawOther[0].data, 'k1', 'authentication_failed'], // valid, but made for secret:other
    ];
    const failures = [];
    for (const [data, kid, reason] of bad) {
      const { status, body } = await gateway.api('POST', '/api/publish', { channel: 'secret:room', data });
      assert.equal(status, 200, JSON.stringify(body));
      failures.push({ channel: 'secret:room', offset: body.offset, kid, reason });
    }
    const after = await node.publish('secret:room', { text: 'the next good one' });
    await until(async () => (await page.evaluate(() => window.received['secret:room'].length)) === 3, 'the next good message');
    assert.deepEqual((await page.evaluate(() => window.received['secret:room'])).at(-1).data, { text: 'the next good one' });
    assert.equal((await page.evaluate(() => window.received['secret:room'])).at(-1).offset, after.offset);
    assert.deepEqual(await page.evaluate(() => window.failed), failures);
    await until(() => nodeGot.length === 3, 'the good one in Node too');

    // The history page in the browser: decrypted, the four left out and listed
    const page1 = await page.evaluate(() => window.readHistory('secret:room'));
    assert.deepEqual(page1.publications.map((p) => p.data.text), ['marker-from-node ✓', 'marker-from-chromium ✓', 'the next good one']);
    assert.deepEqual(page1.failed, failures);

    assert.doesNotMatch(gateway.output, /marker-from/, 'the gateway never logged the plaintext');
  } finally {
    await context.close();
  }
});
