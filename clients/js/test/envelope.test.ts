import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Encryption, type Opened } from '../src/encryption.js';
import { cryptoKey, fromBase64url, open, parseEnvelope, seal, toBase64url } from '../src/envelope.js';
import { KEY, OTHER_KEY, VECTORS, nodeOpen, nodeSeal, nodeSealText, tamper } from './envelopes.js';

/** Keys by kid for every channel: k1 is the vectors' key. */
function encryption(keys: Record<string, Uint8Array> = { k1: KEY }, options: { current?: string; timeoutMs?: number } = {}) {
  return new Encryption({ channels: ['secret:*', 'exact'], currentKid: () => options.current ?? 'k1', key: (_, kid) => keys[kid] }, options.timeoutMs ?? 1000);
}

const failure = (opened: Opened) => ('failure' in opened ? opened.failure : undefined);

test('the shared vectors: each decrypts to its plaintext, and encrypting with its iv gives its exact ct', async () => {
  assert.equal(VECTORS.vectors.length, 3);
  for (const { channel, plaintext, envelope } of VECTORS.vectors) {
    const sealed = parseEnvelope(envelope)!;
    assert.ok(sealed, 'a well-formed envelope');
    assert.deepEqual(await open(KEY, channel, sealed), JSON.parse(plaintext), channel);
    assert.deepEqual(await encryption().open(channel, 7, envelope), { data: JSON.parse(plaintext) });
    const again = await seal(KEY, channel, 'k1', JSON.parse(plaintext), fromBase64url(envelope.iv));
    assert.deepEqual(again, envelope, `${channel}: byte for byte the vector`);
  }
});

test('interoperates with an independent AES-GCM (node:crypto) both ways, non-ASCII channels and data included', async () => {
  const data = { text: 'grüße, 你好 😀', n: [1, 2.5, null, true] };
  for (const channel of ['secret:room', 'secret:é-室']) {
    const mine = await encryption().seal(channel, data);
    assert.deepEqual(nodeOpen(KEY, channel, mine), data);
    assert.deepEqual(await encryption().open(channel, 1, nodeSeal(KEY, channel, 'k1', data)), { data });
  }
});

test('tampered ct or iv, a wrong key, and an envelope replayed from another channel: authentication_failed', async () => {
  const e = encryption({ k1: KEY, k2: OTHER_KEY });
  const good = nodeSeal(KEY, 'secret:a', 'k1', { text: 'hi' });
  assert.deepEqual(await e.open('secret:a', 3, good), { data: { text: 'hi' } });
  const cases = {
    'tampered ct': { ...good, ct: tamper(good.ct) },
    'tampered tag': { ...good, ct: tamper(good.ct, good.ct.length - 3) },
    'tampered iv': { ...good, iv: tamper(good.iv) },
    'wrong key': { ...good, kid: 'k2' },
  };
  for (const [what, envelope] of Object.entries(cases)) {
    assert.deepEqual(failure(await e.open('secret:a', 3, envelope)), { channel: 'secret:a', offset: 3, kid: envelope.kid, reason: 'authentication_failed' }, what);
  }
  assert.deepEqual(failure(await e.open('secret:b', 9, good)), { channel: 'secret:b', offset: 9, kid: 'k1', reason: 'authentication_failed' }, 'replayed into another channel');
});

test('a kid the key provider does not know, or whose key it fails to give: unknown_kid', async () => {
  const good = nodeSeal(KEY, 'secret:a', 'k9', 'x');
  assert.deepEqual(failure(await encryption().open('secret:a', 1, good)), { channel: 'secret:a', offset: 1, kid: 'k9', reason: 'unknown_kid' });

  const reported: unknown[] = [];
  const g = globalThis as { reportError?: (e: unknown) => void };
  const before = g.reportError;
  g.reportError = (error) => reported.push(error);
  try {
    const throwing = new Encryption({ channels: ['*'], currentKid: () => 'k1', key: () => Promise.reject(new Error('key service down')) }, 1000);
    assert.equal(failure(await throwing.open('secret:a', 1, good))?.reason, 'unknown_kid');
    const short = encryption({ k9: new Uint8Array(16) });
    assert.equal(failure(await short.open('secret:a', 2, good))?.reason, 'unknown_kid', 'a 16-byte key is not AES-256');
    const slow = new Encryption({ channels: ['*'], currentKid: () => 'k1', key: () => new Promise(() => {}) }, 50);
    assert.equal(failure(await slow.open('secret:a', 3, good))?.reason, 'unknown_kid', 'a provider that never answers');
  } finally {
    g.reportError = before;
  }
  assert.deepEqual(reported.map((e) => (e as Error).message), ['key service down', 'an encryption key is 32 bytes', 'encryption.key']);
});

test('anything but exactly an envelope, or a plaintext that is not UTF-8 JSON: malformed', async () => {
  const e = encryption();
  const good = nodeSeal(KEY, 'secret:a', 'k1', { ok: true });
  const bad: [string, unknown][] = [
    ['plain data', { text: 'hi' }],
    ['a string', 'hello'],
    ['null', null],
    ['an array', [1, 'k1', good.iv, good.ct]],
    ['an extra member', { ...good, extra: 1 }],
    ['a missing member', { v: 1, kid: 'k1', iv: good.iv }],
    ['v 2', { ...good, v: 2 }],
    ['v "1"', { ...good, v: '1' }],
    ['an empty kid', { ...good, kid: '' }],
    ['a 65-character kid', { ...good, kid: 'k'.repeat(65) }],
    ['a kid with a space', { ...good, kid: 'k 1' }],
    ['a non-ASCII kid', { ...good, kid: 'clé' }],
    ['a numeric kid', { ...good, kid: 1 }],
    ['an 11-byte iv', { ...good, iv: toBase64url(new Uint8Array(11)) }],
    ['a 13-byte iv', { ...good, iv: toBase64url(new Uint8Array(13)) }],
    ['a padded iv', { ...good, iv: toBase64url(new Uint8Array(12)).slice(0, 14) + '==' }],
    ['a standard base64 character', { ...good, ct: '+' + good.ct.slice(1) }],
    ['a ct shorter than the tag', { ...good, ct: toBase64url(new Uint8Array(15)) }],
    ['a non-canonical last character', { ...good, ct: 'A'.repeat(22) + 'B' }],
    ['a number ct', { ...good, ct: 5 }],
  ];
  for (const [what, data] of bad) {
    const f = failure(await e.open('secret:a', 4, data));
    assert.equal(f?.reason, 'malformed', what);
    assert.equal(f?.offset, 4);
  }
  assert.equal(failure(await e.open('secret:a', 4, { ...good, v: 2 }))?.kid, 'k1', 'a readable kid is reported');
  assert.equal(failure(await e.open('secret:a', 4, { ...good, kid: 'k 1' }))?.kid, undefined);
  const notJson = nodeSealText(KEY, 'secret:a', 'k1', Buffer.from('not json'));
  const notUtf8 = nodeSealText(KEY, 'secret:a', 'k1', Uint8Array.of(0x22, 0xff, 0xfe, 0x22));
  assert.deepEqual(failure(await e.open('secret:a', 5, notJson)), { channel: 'secret:a', offset: 5, kid: 'k1', reason: 'malformed' });
  assert.equal(failure(await e.open('secret:a', 6, notUtf8))?.reason, 'malformed', 'invalid UTF-8 is not replaced, it is refused');
});

test('base64url: the RFC 4648 section 5 alphabet without padding, one spelling per byte string', () => {
  for (let n = 0; n < 70; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    const text = toBase64url(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64url'));
    assert.deepEqual(fromBase64url(text), bytes);
  }
  for (const bad of ['A', 'AA==', 'AB', 'AAB', 'A+A/', 'AA AA', 'AAé', 'A\u0100AA']) assert.equal(fromBase64url(bad), undefined, bad);
  assert.deepEqual(fromBase64url(''), new Uint8Array(0));
});

test('a raw key is imported once per array, as a non-extractable AES-GCM key; keys of another length are refused', async () => {
  const bytes = new Uint8Array(randomBytes(32));
  const first = await cryptoKey(bytes);
  assert.equal(await cryptoKey(bytes), first, 'cached');
  assert.equal(first.extractable, false);
  assert.deepEqual([first.algorithm.name, (first.algorithm as AesKeyAlgorithm).length], ['AES-GCM', 256]);
  const given = await crypto.subtle.importKey('raw', KEY, 'AES-GCM', false, ['encrypt', 'decrypt']);
  assert.equal(await cryptoKey(given), given, 'a CryptoKey is used as it is');
  await assert.rejects(cryptoKey(new Uint8Array(24)), TypeError);
  const [a, b] = [await seal(given, 'secret:a', 'k1', 1), await seal(KEY, 'secret:a', 'k1', 1)];
  assert.deepEqual([nodeOpen(KEY, 'secret:a', a), nodeOpen(KEY, 'secret:a', b)], [1, 1]);
});

test('encrypting: the current kid and its key; a missing key, a bad kid or non-JSON data reject', async () => {
  const envelope = await encryption({ k1: KEY, k2: OTHER_KEY }, { current: 'k2' }).seal('secret:a', [1]);
  assert.equal(envelope.kid, 'k2');
  assert.deepEqual(nodeOpen(OTHER_KEY, 'secret:a', envelope), [1]);
  await assert.rejects(encryption({}, {}).seal('secret:a', 1), { code: 'unknown_kid' });
  await assert.rejects(encryption({}, { current: 'bad kid' }).seal('secret:a', 1), TypeError);
  await assert.rejects(encryption().seal('secret:a', undefined), TypeError);
  const hanging = new Encryption({ channels: ['*'], currentKid: () => new Promise<string>(() => {}), key: () => KEY }, 50);
  await assert.rejects(hanging.seal('secret:a', 1), { code: 'timeout' });
});

test('channel patterns: names and prefix* as in channels.encrypted; a bad option is refused at once', () => {
  const e = encryption();
  assert.deepEqual(['secret:x', 'secret:', 'exact', 'exactly', 'secre', 'room:1'].map((c) => e.covers(c)), [true, true, true, false, false, false]);
  assert.equal(new Encryption({ channels: ['*'], currentKid: () => 'k', key: () => undefined }, 1).covers('anything'), true);
  const key = () => undefined;
  for (const bad of [{ channels: 'secret:*', currentKid: () => 'k', key }, { channels: [''], currentKid: () => 'k', key }, { channels: ['a'], key }, {}]) {
    assert.throws(() => new Encryption(bad as never, 1), TypeError);
  }
});

test('acceptance 5: 100,000 encryptions with one key, no IV repeats', async () => {
  const key = await cryptoKey(KEY);
  const ivs = new Set<string>();
  for (let batch = 0; batch < 500; batch++) {
    const envelopes = await Promise.all(Array.from({ length: 200 }, (_, i) => seal(key, "secret:a", "k1", batch * 200 + i)));
    for (const { iv } of envelopes) ivs.add(iv);
  }
  assert.equal(ivs.size, 100_000);
  for (const iv of ivs) assert.equal(fromBase64url(iv)?.length, 12);
});
