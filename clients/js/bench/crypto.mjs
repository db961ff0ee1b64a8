// npm run bench:crypto: what end-to-end encryption costs the JS client per message, in Node.
//
// It bundles the client's envelope module (src/envelope.ts) with esbuild exactly as the dist build
// does (ES2022, minified) and times its two halves on 100-byte and 5 KB JSON payloads:
//   encrypt = seal():            JSON text -> UTF-8 -> AES-256-GCM (Web Crypto) -> base64url envelope
//   decrypt = parseEnvelope() + open(): envelope checks, base64url -> AES-256-GCM -> UTF-8 -> JSON
// in two ways: one message at a time (each awaited: the latency one message adds) and 64 in flight
// (as a subscription's burst decrypts: Web Crypto runs on Node's thread pool). A run is RUN_MS of
// messages after a warm-up; each figure is the median of RUNS runs, in microseconds per message,
// of CPU time (the cost) and of wall time (what it took, waiting for a core included).
// Options: --runs N (default 7), --ms N (default 1000).
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('--runs', 7);
const RUN_MS = arg('--ms', 1000);
const IN_FLIGHT = 64;

mkdirSync('build/bench', { recursive: true });
await esbuild.build({
  entryPoints: ['src/envelope.ts'], outfile: 'build/bench/envelope.js', bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true,
});
const { cryptoKey, open, parseEnvelope, seal } = await import(new URL('../build/bench/envelope.js', import.meta.url).href);

/** A chat-like JSON value whose JSON text is exactly `bytes` bytes long. */
function payload(bytes) {
  const base = { type: 'chat', roomId: '00000000-0000-4000-8000-000000000042', content: '' };
  const room = bytes - JSON.stringify(base).length;
  if (room < 0) throw new Error('payload too small');
  return { ...base, content: 'x'.repeat(room) };
}

const key = await cryptoKey(crypto.getRandomValues(new Uint8Array(32)));
const channel = 'secret:room-42';

/**
 * One run of RUN_MS: `op` with `inFlight` at a time. Returns microseconds per message of wall time
 * and of CPU time (process.cpuUsage: user + system of every thread of the process, Web Crypto's
 * thread-pool workers included). On a shared machine the CPU figure is the steadier measure of
 * cost: wall time also counts waiting for a core.
 */
async function run(op, inFlight) {
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + RUN_MS;
  while (performance.now() < end) {
    if (inFlight === 1) await op();
    else await Promise.all(Array.from({ length: inFlight }, op));
    n += inFlight;
  }
  const wall = ((performance.now() - start) * 1000) / n;
  const { user, system } = process.cpuUsage(cpu);
  return { wall, cpu: (user + system) / n };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cell = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;

console.log(`node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${RUNS} runs of ${RUN_MS} ms each; median (min-max) microseconds per message\n`);
console.log('| payload (JSON text) | envelope | operation | in flight | CPU time | wall time |');
console.log('|---|---|---|---|---|---|');
for (const bytes of [100, 5120]) {
  const data = payload(bytes);
  const envelope = await seal(key, channel, 'k1', data);
  const wire = JSON.parse(JSON.stringify(envelope)); // as it arrives: parsed from the frame
  const roundTrip = await open(key, channel, parseEnvelope(wire));
  if (JSON.stringify(roundTrip) !== JSON.stringify(data)) throw new Error('round trip failed');
  const ops = { encrypt: () => seal(key, channel, 'k1', data), decrypt: () => open(key, channel, parseEnvelope(wire)) };
  for (const [name, op] of Object.entries(ops)) {
    for (const inFlight of [1, IN_FLIGHT]) {
      await run(op, inFlight); // warm-up
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await run(op, inFlight));
      console.log(`| ${bytes === 100 ? '100 B' : '5 KB'} | ${JSON.stringify(envelope).length} B | ${name} | ${inFlight} | ${cell(runs.map((r) => r.cpu))} | ${cell(runs.map((r) => r.wall))} |`);
    }
  }
}
console.log(`\nload ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
