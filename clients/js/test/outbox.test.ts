import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortcullisError } from '../src/errors.js';
import { Outbox } from '../src/outbox.js';
import type { ClientFrame } from '../src/protocol.js';

const publish = (n: number): ClientFrame => ({ type: 'publish', channel: 'room:1', data: n, idempotencyKey: 'k' + n });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the publish queue is bounded: when full, a publish is rejected at once with queue_full', async () => {
  const sent: ClientFrame[] = [];
  const outbox = new Outbox((f) => sent.push(f), 3, 60_000);
  const queued = [1, 2, 3].map((n) => outbox.request(publish(n)));
  await assert.rejects(outbox.request(publish(4)), (e: PortcullisError) => e instanceof PortcullisError && e.code === 'queue_full');
  // history requests do not count against the publish bound
  const history = outbox.request({ type: 'history', channel: 'room:1' });
  outbox.up();
  assert.deepEqual(sent.map((f) => f.data ?? f.type), [1, 2, 3, 'history']);
  outbox.answer({ type: 'ack', id: 1, offset: 1 });
  assert.equal((await queued[0]).offset, 1);
  // a place is free again
  const fifth = outbox.request(publish(5));
  assert.equal(sent.at(-1)!.data, 5);
  outbox.failAll(new PortcullisError('closed'));
  for (const p of [...queued.slice(1), history, fifth]) await assert.rejects(p, { code: 'closed' });
});

test('answers match integer ids whether echoed as numbers or as strings', async () => {
  const outbox = new Outbox(() => {}, 10, 60_000);
  outbox.up();
  const a = outbox.request(publish(1));
  const b = outbox.request(publish(2));
  assert.equal(outbox.answer({ type: 'ack', id: '2', offset: 7 }), true);
  assert.equal(outbox.answer({ type: 'ack', id: 1, offset: 6 }), true);
  assert.equal(outbox.answer({ type: 'ack', id: 1, offset: 6 }), false);
  assert.equal((await a).offset, 6);
  assert.equal((await b).offset, 7);
});

test('a request in flight when the link drops is sent again, same id and key, on the next link', () => {
  const sent: ClientFrame[] = [];
  const outbox = new Outbox((f) => sent.push(f), 10, 60_000);
  outbox.up();
  void outbox.request(publish(1)).catch(() => {});
  outbox.down();
  outbox.up();
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[0], sent[1]);
  outbox.failAll(new PortcullisError('closed'));
});

test('timeouts: queued -> timeout; sent -> outcome_unknown with the idempotency key', async () => {
  const outbox = new Outbox(() => {}, 10, 30);
  const queued = outbox.request(publish(1));
  await assert.rejects(queued, { code: 'timeout' });
  outbox.up();
  const inflight = outbox.request(publish(2));
  await assert.rejects(inflight, { code: 'outcome_unknown', idempotencyKey: 'k2' });
  // and it no longer counts against the bound
  const small = new Outbox(() => {}, 1, 20);
  await assert.rejects(small.request(publish(1)), { code: 'timeout' });
  const next = small.request(publish(2));
  small.failAll(new PortcullisError('closed'));
  await assert.rejects(next, { code: 'closed' });
});

test('outcome_unknown from the gateway: retried 3 times 500 ms apart with the same key, then rejected', async () => {
  const sent: ClientFrame[] = [];
  const outbox = new Outbox((f) => sent.push(f), 10, 60_000);
  outbox.up();
  const started = Date.now();
  const result = outbox.request(publish(1));
  const unknown = { type: 'error', id: 1, code: 'outcome_unknown', message: 'broker timeout', idempotencyKey: 'k1' };
  for (let i = 1; i <= 3; i++) {
    outbox.answer(unknown);
    while (sent.length === i) await sleep(5);
  }
  assert.equal(sent.length, 4);
  assert.ok(Date.now() - started >= 1400, 'the retries wait 500 ms each');
  assert.ok(sent.every((f) => f.idempotencyKey === 'k1' && f.id === 1));
  outbox.answer(unknown);
  await assert.rejects(result, { code: 'outcome_unknown', idempotencyKey: 'k1' });
});

test('other errors reject at once with code, message and retryAfterMs', async () => {
  const outbox = new Outbox(() => {}, 10, 60_000);
  outbox.up();
  const p = outbox.request(publish(1));
  outbox.answer({ type: 'error', id: 1, code: 'rate_limited', message: 'slow down', retryAfterMs: 1200 });
  await assert.rejects(p, { code: 'rate_limited', message: 'slow down', retryAfterMs: 1200, idempotencyKey: 'k1' });
});
