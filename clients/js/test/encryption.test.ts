import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { DecryptFailure, EncryptionOptions } from '../src/index.js';
import { MAX_DECRYPTING } from '../src/encryption.js';
import { KEY, OTHER_KEY, nodeOpen, nodeSeal, tamper } from './envelopes.js';
import { FakeGateway, closeClients, setup, until } from './fake-gateway.js';

afterEach(closeClients);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Channels `secret:*` and `user:alice` encrypted; kids k1 and `slow` (the same key, given after
 * `slowMs`) are known, and `current` names the kid publishes use.
 */
function keys(slowMs = 150, current: () => string | Promise<string> = () => 'k1'): EncryptionOptions {
  return {
    channels: ['secret:*', 'user:alice'],
    currentKid: current,
    key: (_, kid) => (kid === 'k1' ? KEY : kid === 'slow' ? sleep(slowMs).then(() => KEY) : undefined),
  };
}

function encryptedClient(encryption = keys(), gateway = new FakeGateway()) {
  const s = setup({ encryption }, gateway);
  const got: { data: unknown; offset: number; recovered: boolean }[] = [];
  const failed: DecryptFailure[] = [];
  const sub = s.client.subscribe('secret:room', (data, { offset, recovered }) => got.push({ data, offset, recovered }));
  sub.on('decrypt_failed', (f) => failed.push(f));
  return { ...s, sub, got, failed, publish: (data: unknown, kid = 'k1') => gateway.publish('secret:room', nodeSeal(KEY, 'secret:room', kid, data)) };
}

test('an encrypted channel: publications arrive decrypted; publishes leave as envelopes of the current key', async () => {
  const { client, gateway, sub, got, publish } = encryptedClient();
  await sub.ready;
  publish({ text: 'from the backend' });
  const { offset } = await client.publish('secret:room', { text: 'mine' });
  assert.equal(offset, 2);
  const wire = gateway.sent('publish')[0].data as { kid: string; iv: string; ct: string };
  assert.deepEqual(Object.keys(wire), ['v', 'kid', 'iv', 'ct']);
  assert.equal(wire.kid, 'k1');
  assert.deepEqual(nodeOpen(KEY, 'secret:room', wire), { text: 'mine' }, 'only ciphertext went out');
  await until(() => got.length === 2);
  assert.deepEqual(got, [
    { data: { text: 'from the backend' }, offset: 1, recovered: false },
    { data: { text: 'mine' }, offset: 2, recovered: false },
  ]);
  // channels not in the list are untouched
  const plain: unknown[] = [];
  await client.subscribe('room:1', (d) => plain.push(d)).ready;
  await client.publish('room:1', { text: 'plain' });
  assert.deepEqual(gateway.sent('publish')[1].data, { text: 'plain' });
  await until(() => plain.length === 1);
});

test('acceptance 2: tampered ct, tampered iv, unknown kid, replay from another channel, plain data: decrypt_failed with the offset; the next good one arrives', async () => {
  const { gateway, sub, got, failed, publish } = encryptedClient();
  await sub.ready;
  const good = nodeSeal(KEY, 'secret:room', 'k1', 'x');
  publish('first');
  gateway.publish('secret:room', { ...good, ct: tamper(good.ct) });
  gateway.publish('secret:room', { ...good, iv: tamper(good.iv) });
  gateway.publish('secret:room', nodeSeal(OTHER_KEY, 'secret:room', 'k7', 'x'));
  gateway.publish('secret:room', nodeSeal(KEY, 'secret:other', 'k1', 'x'));
  gateway.publish('secret:room', { text: 'plain' });
  publish('last');
  await until(() => got.length === 2 && failed.length === 5);
  assert.deepEqual(got.map((g) => [g.offset, g.data]), [[1, 'first'], [7, 'last']]);
  assert.deepEqual(failed, [
    { channel: 'secret:room', offset: 2, kid: 'k1', reason: 'authentication_failed' },
    { channel: 'secret:room', offset: 3, kid: 'k1', reason: 'authentication_failed' },
    { channel: 'secret:room', offset: 4, kid: 'k7', reason: 'unknown_kid' },
    { channel: 'secret:room', offset: 5, kid: 'k1', reason: 'authentication_failed' },
    { channel: 'secret:room', offset: 6, kid: undefined, reason: 'malformed' },
  ]);
  // the failed offsets count as seen: a reconnect resumes after the last one, nothing is asked for again
  assert.deepEqual(sub.position, { offset: 7, epoch: 'e1' });
  gateway.sockets[0].kill();
  await until(() => gateway.open().length === 1 && gateway.sent('subscribe').length === 2);
  assert.deepEqual(gateway.sent('subscribe')[1].since, { offset: 7, epoch: 'e1' });
  await sleep(20);
  assert.equal(failed.length, 5);
});

test('a slow key for one publication holds back the ones after it: delivery order is the channel order', async () => {
  const { gateway, sub, got, failed, publish } = encryptedClient(keys(150));
  await sub.ready;
  publish(1, 'slow');
  publish(2);
  gateway.publish('secret:room', nodeSeal(KEY, 'secret:room', 'nobody', 3));
  publish(4);
  publish(5, 'slow');
  publish(6);
  const order: unknown[] = [];
  sub.on('decrypt_failed', (f) => order.push('failed ' + f.offset));
  const before = got.length;
  await sleep(50);
  assert.equal(got.length, before, 'nothing overtook the slow first one');
  assert.deepEqual(sub.position, { offset: 0, epoch: 'e1' }, 'position: what the application has seen');
  await until(() => got.length === 5, 3000);
  assert.deepEqual(got.map((g) => g.data), [1, 2, 4, 5, 6]);
  assert.deepEqual(failed.map((f) => f.offset), [3]);
  assert.deepEqual(sub.position, { offset: 6, epoch: 'e1' });
});

test('a reconnect while a publication is being decrypted: it still arrives, once; the missed ones are recovered after it', async () => {
  const { gateway, sub, got, publish } = encryptedClient(keys(200));
  await sub.ready;
  publish(1);
  await until(() => got.length === 1);
  publish(2, 'slow');
  await sleep(20);
  gateway.sockets[0].kill();
  publish(3); // while away
  await until(() => got.length === 3, 3000);
  publish(4);
  await until(() => got.length === 4);
  assert.deepEqual(got.map((g) => [g.data, g.recovered]), [[1, false], [2, false], [3, true], [4, false]]);
  assert.deepEqual(gateway.sent('subscribe')[1].since, { offset: 2, epoch: 'e1' }, 'resumed after what was being decrypted');
});

test('unsubscribe while a decryption is pending: no callback after it returns', async () => {
  const { sub, got, publish } = encryptedClient(keys(100));
  await sub.ready;
  publish(1, 'slow');
  await sleep(20);
  sub.unsubscribe();
  await sleep(150);
  assert.deepEqual(got, []);
});

test("publishes keep the order they were made in, whatever each one's encryption takes; a failing one rejects alone", async () => {
  let calls = 0;
  const current = () => (++calls === 1 ? sleep(100).then(() => 'k1') : calls === 3 ? 'nobody' : 'k1');
  const { client, gateway, sub } = encryptedClient(keys(0, current));
  await sub.ready;
  const first = client.publish('secret:room', 'first (slow kid)');
  const second = client.publish('secret:room', 'second');
  const third = client.publish('secret:room', 'third (no key)');
  const fourth = client.publish('room:1', 'fourth (plain channel)');
  await assert.rejects(third, { code: 'unknown_kid' });
  assert.deepEqual((await Promise.all([first, second, fourth])).map((r) => r.offset), [1, 2, 1]);
  const sent = gateway.sent('publish').map((m) => (m.channel === 'room:1' ? m.data : nodeOpen(KEY, 'secret:room', m.data as { iv: string; ct: string })));
  assert.deepEqual(sent, ['first (slow kid)', 'second', 'fourth (plain channel)']);
  assert.equal((await client.publish('secret:room', 'after')).offset, 3, 'the chain goes on');
});

test('publishes made offline wait in the queue as envelopes', async () => {
  const gateway = new FakeGateway();
  const { client } = setup({ encryption: keys(), autoConnect: false }, gateway);
  const published = client.publish('secret:room', 'queued');
  await sleep(10);
  client.connect();
  assert.equal((await published).offset, 1);
  assert.equal(nodeOpen(KEY, 'secret:room', gateway.chan('secret:room').log[0].data as { iv: string; ct: string }), 'queued');
});

test('history pages are decrypted; entries that fail are left out and listed under failed', async () => {
  const { client, gateway, publish } = encryptedClient();
  publish('a', 'slow');
  gateway.publish('secret:room', nodeSeal(KEY, 'secret:room', 'gone', 'b'));
  publish('c');
  const page = await client.history('secret:room');
  assert.deepEqual(page.publications, [{ offset: 1, data: 'a' }, { offset: 3, data: 'c' }]);
  assert.deepEqual(page.failed, [{ channel: 'secret:room', offset: 2, kid: 'gone', reason: 'unknown_kid' }]);
  assert.equal((await client.history('room:1')).failed, undefined, 'a plain channel has no failed list');
});

test('an encrypted automatic channel: publication events decrypted in order, failures as client decrypt_failed events', async () => {
  const { client, gateway } = setup({ encryption: keys(100) });
  const events: unknown[] = [];
  client.on('publication', (p) => events.push([p.offset, p.data]));
  client.on('decrypt_failed', (f) => events.push([f.offset, f.reason]));
  await until(() => client.state === 'connected');
  await sleep(5);
  gateway.publish('user:alice', nodeSeal(KEY, 'user:alice', 'slow', 'one'));
  gateway.publish('user:alice', { not: 'an envelope' });
  gateway.publish('user:alice', nodeSeal(KEY, 'user:alice', 'k1', 'three'));
  await until(() => events.length === 3, 2000);
  assert.deepEqual(events, [[1, 'one'], [2, 'malformed'], [3, 'three']]);
});

test('a bad encryption option is refused by the constructor', () => {
  assert.throws(() => setup({ encryption: { channels: 'secret:*' } as never }), TypeError);
});

test('a key provider slower than a busy channel: at most MAX_DECRYPTING publications wait; the rest become one gap in their place, and delivery goes on', async () => {
  // a subscription; then two automatic channels, interleaved, behind the one queue they share
  for (const channels of [['secret:room'], ['user:alice', 'secret:auto']]) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let asked = 0;
    const encryption = { channels: ['secret:*', 'user:alice'], currentKid: () => 'k1', key: (_: string, kid: string) => (asked++, kid === 'gated' ? gate.then(() => KEY) : KEY) };
    const { client, gateway } = setup({ encryption }, new FakeGateway(['user:alice', 'secret:auto']));
    const seen: Record<string, string[]> = Object.fromEntries(channels.map((c) => [c, []]));
    const gap = (channel: string, g: { offset: number; epoch?: string }) => seen[channel].push('gap ' + g.offset + ' ' + g.epoch);
    if (channels.length > 1) {
      client.on('publication', (p) => seen[p.channel].push(p.offset + ' ' + p.data));
      client.on('gap', (g) => gap(g.channel, g));
      await until(() => client.state === 'connected');
      await sleep(5);
    } else {
      const sub = client.subscribe(channels[0], (data, { offset }) => seen[channels[0]].push(offset + ' ' + data));
      sub.on('gap', (g) => gap(channels[0], g));
      await sub.ready;
    }
    const envelopes = channels.map((c) => nodeSeal(KEY, c, 'gated', 'x'));
    const last = (MAX_DECRYPTING + 50) / channels.length; // each channel's last offset
    for (let i = 0; i < last; i++) channels.forEach((c, j) => gateway.publish(c, envelopes[j]));
    await until(() => asked >= MAX_DECRYPTING, 10_000, 'a full queue');
    await sleep(50);
    assert.equal(asked, MAX_DECRYPTING, `${channels}: the ones over the bound never reach the key provider`);
    const total = () => Object.values(seen).flat().length;
    assert.equal(total(), 0);
    release();
    await until(() => total() === MAX_DECRYPTING + channels.length, 10_000, 'the queue drained');
    for (const c of channels) gateway.publish(c, nodeSeal(KEY, c, 'k1', 'after'));
    await until(() => total() === MAX_DECRYPTING + 2 * channels.length, 2000, 'the next ones');
    for (const c of channels) {
      const kept = MAX_DECRYPTING / channels.length;
      assert.ok(seen[c].slice(0, kept).every((s, i) => s === `${i + 1} x`), `${c}: the first ones in order`);
      assert.deepEqual(seen[c].slice(kept), [`gap ${last} e1`, `${last + 1} after`], c);
    }
    client.close();
  }
});
