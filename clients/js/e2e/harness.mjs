// End-to-end harness: the real gateway jar, real redis-server processes, Debian's Chromium driven by
// playwright-core, and a backend that uses the real admin API. Nothing here imitates a component.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const JAR = path.join(ROOT, 'gateway/target/portcullis.jar');
export const SECRET = 'e2e-secret-0123456789-abcdefghijklmnop';
export const API_KEY = 'e2e-api-key-0123456789';
/** The chat example's first room (examples/chat/chat.js). */
export const LOBBY = '00000000-0000-4000-8000-000000000042';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function until(check, what, timeoutMs = 15_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** An HS256 token signed here with node:crypto, independently of the gateway's own minter. */
export function token(sub, { ttlSec = 3600, channels = { 'room:*': 'rw', alerts: 'r' }, exp } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now - 1, exp: exp ?? now + ttlSec, channels })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

export function javaBinary() {
  const home = process.env.JAVA_HOME && existsSync(path.join(process.env.JAVA_HOME, 'bin/java'))
    ? process.env.JAVA_HOME
    : execFileSync(path.join(ROOT, 'portcullis'), ['java-home'], { encoding: 'utf8' }).trim();
  return path.join(home, 'bin/java');
}

/** Flat keys (`limits.connections-per-user`) as nested YAML-compatible JSON. */
function nest(flat) {
  const root = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) node = node[part] ??= {};
    node[parts.at(-1)] = value;
  }
  return root;
}

/**
 * The gateway jar in dev mode (so it serves the chat example and the client bundle on its public
 * port), with a fixed secret and API key from a config file, on ports chosen here so a restart
 * comes back on the same address.
 */
export class Gateway {
  static async start(settings = {}) {
    const gateway = new Gateway(settings);
    gateway.port = await freePort();
    gateway.adminPort = await freePort();
    await gateway.launch();
    return gateway;
  }

  constructor(settings) {
    this.settings = settings;
    this.dir = mkdtempSync(path.join(tmpdir(), 'portcullis-e2e-'));
    this.output = '';
  }

  get origin() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  async launch() {
    const config = nest({
      'server.host': '127.0.0.1',
      'server.port': this.port,
      'admin.port': this.adminPort,
      'admin.api-keys': [API_KEY],
      'auth.hmac-secret': SECRET,
      'shutdown.drain-timeout': '3s',
      'history.channels': ['alerts=1000/24h', 'user:*=100/24h', 'room:*=1000/24h'],
      ...this.settings,
    });
    const file = path.join(this.dir, 'portcullis.yaml');
    writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
    this.process = spawn(javaBinary(), ['--enable-native-access=ALL-UNNAMED', '-Xmx256m', '-jar', JAR, 'serve', '--dev', '--config', file], {
      cwd: ROOT, // dev mode serves examples/chat and clients/js/dist from here
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout.on('data', (chunk) => (this.output += chunk));
    this.process.stderr.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    await until(async () => {
      if (this.process.exitCode !== null) throw new Error(`gateway exited at start:\n${this.output}`);
      try {
        return (await fetch(`http://127.0.0.1:${this.adminPort}/readyz`)).status === 200;
      } catch {
        return false;
      }
    }, 'the gateway to be ready', 60_000, 200);
  }

  /** SIGTERM: the graceful drain (every client gets 1001 and a reconnect hint). */
  async stop() {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill('SIGTERM');
    const exit = await this.exited;
    if (exit.code !== 0) throw new Error(`gateway exited with ${JSON.stringify(exit)}:\n${this.output}`);
  }

  async restart() {
    await this.stop();
    await this.launch();
  }

  /** The backend API on the admin port. */
  async api(method, apiPath, body) {
    const response = await fetch(`http://127.0.0.1:${this.adminPort}${apiPath}`, {
      method,
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  async connections(user) {
    const { body } = await this.api('GET', `/api/connections?user=${encodeURIComponent(user)}`);
    return body.connections ?? body;
  }
}

/**
 * A backend publishing a numbered message every `everyMs`, each with its own idempotency key,
 * retried with that key while the gateway is away (refused connection, 503, 504): a message counts
 * as published once the API acknowledged it, exactly as a real backend would see it.
 */
export class Publisher {
  constructor(gateway, channel, makeData = (seq) => ({ seq })) {
    this.gateway = gateway;
    this.channel = channel;
    this.makeData = makeData;
    this.acked = [];
    this.running = false;
  }

  start(everyMs = 100) {
    this.running = true;
    this.done = (async () => {
      for (let seq = 1; this.running; seq++) {
        await this.publishOne(seq);
        await sleep(everyMs);
      }
    })();
    return this;
  }

  async publishOne(seq) {
    const key = randomUUID();
    for (;;) {
      try {
        const { status, body } = await this.gateway.api('POST', '/api/publish', {
          channel: this.channel, data: this.makeData(seq), idempotencyKey: key,
        });
        if (status === 200) {
          this.acked.push({ seq, offset: body.offset });
          return;
        }
        if (status !== 503 && status !== 504) throw new Error(`publish answered ${status}: ${JSON.stringify(body)}`);
      } catch (error) {
        if (!/fetch failed|ECONNREFUSED|ECONNRESET|socket/i.test(String(error?.cause ?? error))) throw error;
      }
      await sleep(100);
    }
  }

  async stop() {
    this.running = false;
    await this.done;
    return this.acked;
  }
}

/** A redis-server on a free port, no persistence, killed at the end. */
export class Redis {
  static async start() {
    const redis = new Redis();
    redis.port = await freePort();
    redis.process = spawn('redis-server', ['--port', String(redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await until(() => new Promise((resolve) => {
      const socket = net.connect(redis.port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    }), 'redis-server to listen');
    return redis;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  stop() {
    this.process.kill('SIGKILL');
  }
}

/**
 * Debian's Chromium (never a downloaded browser), headless, with the flags this closed network needs.
 * Local Network Access checks are off because the client tests' pages are fulfilled by Playwright
 * (see clientPage): such a page has no address, Chromium counts it as public and would block its
 * sockets to 127.0.0.1. The chat example, served by the gateway itself, does not need this.
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-features=LocalNetworkAccessChecks'],
  });
}

/**
 * A page on the gateway's origin that loads the client bundle the gateway serves, for tests of the
 * client itself (the chat example has its own page). `script` runs as a module after the import
 * of `PortcullisClient`; it can use `window.mintToken(sub, ttlSec)` when the test exposes it.
 */
export async function clientPage(context, gateway, script, name = 'e2e') {
  const url = `${gateway.origin}/${name}.html`;
  await context.route(url, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><meta charset="utf-8"><title>${name}</title>
<script type="module">
import { PortcullisClient } from '/portcullis.js';
window.log = [];
${script}
</script>`,
  }));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
  await page.goto(url);
  return page;
}

/**
 * The page script (for {@link clientPage}) of a client with end-to-end encrypted channels, driven
 * from the test: `window.subscribe(channel)` (resolves once acked), `window.publish(channel, data)`
 * (resolves with the offset), `window.readHistory(channel)`; deliveries land in
 * `window.received[channel]` as `{ data, offset, recovered }`, decrypt failures in `window.failed`.
 * `keys` maps key ids to base64url keys (32 bytes): they stay in the page, as in an application
 * that fetched them from its backend. Works with any publisher of envelopes (another JS client,
 * the Java client, a backend).
 */
export function encryptedPage({ user, channels, keys, currentKid }) {
  return `
const keys = Object.fromEntries(Object.entries(${JSON.stringify(keys)}).map(([kid, b64]) =>
  [kid, Uint8Array.from(atob(b64.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))]));
window.received = {};
window.failed = [];
const client = (window.client = new PortcullisClient({
  url: 'ws://' + location.host + '/ws',
  getToken: () => window.mintToken(${JSON.stringify(user)}),
  sharedAcrossTabs: false,
  encryption: { channels: ${JSON.stringify(channels)}, currentKid: () => ${JSON.stringify(currentKid)}, key: (channel, kid) => keys[kid] },
}));
window.subscribe = async (channel) => {
  const list = (window.received[channel] = []);
  const sub = client.subscribe(channel, (data, { offset, recovered }) => list.push({ data, offset, recovered }));
  sub.on('decrypt_failed', (failure) => window.failed.push({ ...failure }));
  await sub.ready;
};
window.publish = async (channel, data) => (await client.publish(channel, data)).offset;
window.readHistory = (channel) => client.history(channel);
`;
}
