import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../src/backoff.js';

test('attempt n waits within [base, min(cap, base * 2^(n+1))]', () => {
  for (const r of [0, 0.5, 0.999999]) {
    const backoff = new Backoff(500, 20_000, () => r);
    for (let n = 0; n < 12; n++) {
      const upper = Math.min(20_000, 500 * 2 ** (n + 1));
      const delay = backoff.next();
      assert.ok(delay >= 500 && delay <= upper, `attempt ${n}: ${delay} not in [500, ${upper}]`);
      if (r === 0) assert.equal(delay, 500);
      if (r > 0.99) assert.ok(delay >= upper - 1, `attempt ${n} at r~1 should reach the upper bound ${upper}, got ${delay}`);
    }
  }
});

test('upper bounds double up to the cap', () => {
  const backoff = new Backoff(500, 20_000);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoff.upper(n)), [1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]);
});

test('full jitter spreads a crowd over the whole window', () => {
  const first = Array.from({ length: 2000 }, () => new Backoff(500, 20_000).next());
  assert.ok(Math.min(...first) >= 500 && Math.max(...first) <= 1000);
  // every 50 ms bucket of [500, 1000) gets some of the crowd
  const buckets = new Set(first.map((d) => Math.min(9, Math.floor((d - 500) / 50))));
  assert.equal(buckets.size, 10);
  const mean = first.reduce((a, b) => a + b, 0) / first.length;
  assert.ok(mean > 700 && mean < 800, `mean ${mean} should be near 750`);
});

test('reset starts again from the base; jitter stays within one base', () => {
  const backoff = new Backoff(100, 10_000, () => 0.999);
  for (let i = 0; i < 6; i++) backoff.next();
  assert.ok(backoff.next() > 6000);
  backoff.reset();
  assert.ok(backoff.next() <= 200);
  assert.ok(backoff.jitter() <= 100);
});

test('refuses a nonsensical configuration', () => {
  assert.throws(() => new Backoff(0, 100), RangeError);
  assert.throws(() => new Backoff(500, 100), RangeError);
});
