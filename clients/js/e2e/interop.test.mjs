// Issue 11, tests 1 and 3: the JS client in Chromium and the Java client (a separate JVM running
// client/src/test/java/dev/portcullis/client/EncryptedPeer.java) on one end-to-end encrypted
// channel, each on its own gateway instance of one redis-server. Each decrypts what the other
// published; then a plaintext marker both of them published is looked for everywhere it could
// leak: every key of the Redis (strings, hashes, lists, sets, sorted sets, stream entries), every
// command Redis received while they talked (MONITOR), and both gateways' logs.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Gateway, ROOT, Redis, clientPage, encryptedPage, javaBinary, launchBrowser, token, until } from './harness.mjs';

const K1 = randomBytes(32);
const CHANNEL = 'secret:interop';
const CHANNELS = { 'secret:*': 'rw' };
const MARKER = `plaintext-marker-${randomBytes(6).toString('hex')}`;
const CLIENT = path.join(ROOT, 'client/target');

/** The Java client as a process: lines of JSON data in, one JSON event per line out. */
class JavaPeer {
  static start(gateway, user) {
    const classpathFile = path.join(CLIENT, 'test-classpath.txt');
    if (!existsSync(classpathFile) || !existsSync(path.join(CLIENT, 'test-classes/dev/portcullis/client/EncryptedPeer.class'))) {
      throw new Error('the Java client is not built: run ./mvnw -B -pl client -am test-compile first (the README test command does)');
    }
    const classpath = [path.join(CLIENT, 'classes'), path.join(CLIENT, 'test-classes'), readFileSync(classpathFile, 'utf8').trim()].join(path.delimiter);
    const peer = new JavaPeer();
    peer.events = [];
    peer.stderr = ''; // and its log lines
    peer.process = spawn(javaBinary(), ['-cp', classpath, 'dev.portcullis.client.EncryptedPeer',
      gateway.wsUrl, token(user, { channels: CHANNELS }), CHANNEL, 'k1', K1.toString('base64url')], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Its events are JSON lines; anything else on stdout is the JVM's logging (logback on the test classpath).
    createInterface({ input: peer.process.stdout }).on('line', (line) => (line.startsWith('{"event":') ? peer.events.push(JSON.parse(line)) : (peer.stderr += `${line}\n`)));
    peer.process.stderr.on('data', (chunk) => (peer.stderr += chunk));
    return peer;
  }

  of(type) {
    return this.events.filter((e) => e.event === type);
  }

  publish(data) {
    this.process.stdin.write(`${JSON.stringify(data)}\n`);
  }

  async stop() {
    this.process.stdin.end();
    await until(() => this.process.exitCode !== null, 'the Java peer to exit', 15_000);
    if (this.process.exitCode !== 0) throw new Error(`the Java peer exited with ${this.process.exitCode}:\n${this.stderr}`);
  }
}

/** Every value in the Redis at `port`, read by type (no DUMP: its strings may be LZF-compressed). */
function redisContents(port) {
  const cli = (...args) => execFileSync('redis-cli', ['-p', String(port), '--raw', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const keys = cli('--scan').split('\n').filter(Boolean);
  const read = {
    string: (key) => cli('GET', key),
    hash: (key) => cli('HGETALL', key),
    list: (key) => cli('LRANGE', key, '0', '-1'),
    set: (key) => cli('SMEMBERS', key),
    zset: (key) => cli('ZRANGE', key, '0', '-1', 'WITHSCORES'),
    stream: (key) => cli('XRANGE', key, '-', '+'),
  };
  return keys.map((key) => {
    const type = cli('TYPE', key).trim();
    assert.ok(read[type], `a key of type ${type} (${key}) that this scan cannot read`);
    return { key, type, value: read[type](key) };
  });
}

let browser;
let redis;
let gateways = [];
before(async () => {
  browser = await launchBrowser();
  redis = await Redis.start();
  const settings = { 'broker.type': 'redis', 'broker.redis-url': redis.url, 'channels.encrypted': ['secret:*'], 'history.channels': ['secret:*=100/24h'] };
  gateways = [await Gateway.start(settings), await Gateway.start(settings)];
});
after(async () => {
  await browser?.close();
  for (const gateway of gateways) await gateway.stop();
  redis?.stop();
});

test('Chromium (JS client) and the Java client decrypt each other across two instances; the plaintext is nowhere in Redis, its command stream or the logs', async () => {
  const monitor = spawn('redis-cli', ['-p', String(redis.port), 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let monitored = '';
  monitor.stdout.on('data', (chunk) => (monitored += chunk));
  const context = await browser.newContext();
  await context.exposeFunction('mintToken', (user) => token(user, { channels: CHANNELS }));
  const java = JavaPeer.start(gateways[1], 'jules');
  try {
    const page = await clientPage(context, gateways[0], encryptedPage({
      user: 'chloe', channels: ['secret:*'], keys: { k1: K1.toString('base64url') }, currentKid: 'k1',
    }), 'interop');
    await page.evaluate((channel) => window.subscribe(channel), CHANNEL);
    await until(() => java.of('subscribed').length === 1, `the Java client subscribed (stderr: ${java.stderr})`, 30_000);

    // Chromium -> Java, then Java -> Chromium, then both again: each side decrypts the other's.
    const fromPage = await page.evaluate(([channel, marker]) => window.publish(channel, { text: `${marker} from Chromium`, n: 1 }), [CHANNEL, MARKER]);
    await until(() => java.of('message').length === 1, 'the page\'s message in Java');
    java.publish({ text: `${MARKER} from Java`, n: 2 });
    await until(() => java.of('published').length === 1, 'the Java publish acknowledged');
    await until(async () => (await page.evaluate((c) => window.received[c].length, CHANNEL)) === 2, 'both messages in the page');
    const fromPage2 = await page.evaluate(([channel, marker]) => window.publish(channel, { text: `${marker} é中😀`, n: 3 }), [CHANNEL, MARKER]);
    java.publish({ text: `${MARKER} é中😀`, n: 4 });
    await until(() => java.of('message').length === 4, 'four messages in Java');
    await until(async () => (await page.evaluate((c) => window.received[c].length, CHANNEL)) === 4, 'four messages in the page');

    const [fromJava, fromJava2] = java.of('published').map((e) => e.offset);
    const expected = [
      { data: { text: `${MARKER} from Chromium`, n: 1 }, offset: fromPage },
      { data: { text: `${MARKER} from Java`, n: 2 }, offset: fromJava },
      { data: { text: `${MARKER} é中😀`, n: 3 }, offset: fromPage2 },
      { data: { text: `${MARKER} é中😀`, n: 4 }, offset: fromJava2 },
    ];
    assert.deepEqual((await page.evaluate((c) => window.received[c], CHANNEL)).map(({ data, offset }) => ({ data, offset })), expected);
    assert.deepEqual(java.of('message').map(({ data, offset }) => ({ data, offset })), expected);
    assert.deepEqual(java.of('decrypt_failed'), []);
    assert.deepEqual(await page.evaluate(() => window.failed), []);

    // Test 3: the marker is nowhere the gateways put anything.
    await java.stop();
    const contents = redisContents(redis.port);
    const streams = contents.filter((c) => c.type === 'stream');
    assert.ok(streams.some((s) => s.value.includes('"ct"')), `the channel's history stream holds the envelopes (keys: ${contents.map((c) => c.key).join(', ')})`);
    for (const { key, value } of contents) assert.ok(!value.includes(MARKER), `the plaintext marker in Redis key ${key}`);
    assert.ok(!monitored.includes(MARKER), 'the plaintext marker in a command Redis received');
    assert.match(monitored, /"ct\\?"/, 'MONITOR saw the envelopes go by (so it was watching)');
    for (const gateway of gateways) assert.ok(!gateway.output.includes(MARKER), 'the plaintext marker in a gateway log');
  } finally {
    monitor.kill();
    java.process.kill();
    await context.close();
  }
});
