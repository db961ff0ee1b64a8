import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { PortcullisClient } from '../src/index.js';
import { until } from './fake-gateway.js';

/**
 * Node 20 with the `ws` package against a real HTTP server that refuses and accepts upgrades the
 * way the gateway does, and answers the refusal probe: checks the WebSocket and fetch plumbing
 * (subprotocol token, string-echoed ids of older gateways, close before `open`).
 */
test('with ws: a refused upgrade is probed, 401 gets a fresh token at once, then the connection works', async (t) => {
  const probes: string[] = [];
  const upgrades: string[] = [];
  const server = createServer((req, res) => {
    probes.push(`${req.method} ${req.url} ${req.headers.accept} ${req.headers.authorization}`);
    const refused = req.headers.authorization === 'Bearer bad';
    res.writeHead(refused ? 401 : 200, { 'content-type': 'application/json' });
    res.end(refused ? '{"error":"expired","message":"token expired"}' : '{"ok":true}');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const offered = String(req.headers['sec-websocket-protocol']).split(',').map((p) => p.trim());
    upgrades.push(`${req.url} ${offered.join(' ')}`);
    if (offered.includes('portcullis.bearer.bad')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"expired"}');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ type: 'connected', connection: 'c1', user: 'alice', expiresAt: Date.now() + 60_000 }));
      ws.on('message', (raw) => {
        const f = JSON.parse(String(raw));
        const id = String(f.id); // older gateways echo integer ids as strings
        if (f.type === 'subscribe') ws.send(JSON.stringify({ type: 'ack', id, channel: f.channel, offset: 4, epoch: 'e1' }));
        if (f.type === 'publish') {
          ws.send(JSON.stringify({ type: 'message', channel: f.channel, offset: 5, epoch: 'e1', data: f.data }));
          ws.send(JSON.stringify({ type: 'ack', id, offset: 5, epoch: 'e1' }));
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  t.after(() => {
    wss.clients.forEach((c) => c.terminate());
    server.close();
  });

  const tokens = ['bad', 'good'];
  const client = new PortcullisClient({
    url: `ws://127.0.0.1:${port}/ws?tenant=a`,
    getToken: async () => tokens.shift() ?? 'good',
    WebSocket,
  });
  t.after(() => client.close());
  const refused: unknown[] = [];
  client.on('refused', (r) => refused.push(r));
  const got: unknown[] = [];
  const sub = client.subscribe('room:1', (data, { offset }) => got.push([data, offset]));
  assert.deepEqual(await sub.ready, { offset: 4, epoch: 'e1', recovered: false });
  assert.deepEqual(refused, [{ status: 401, error: 'expired', message: 'token expired', retryAfterMs: undefined }]);
  assert.deepEqual(probes, ['GET /ws?tenant=a application/json Bearer bad']);
  assert.deepEqual(upgrades, ['/ws?tenant=a portcullis.v1 portcullis.bearer.bad', '/ws?tenant=a portcullis.v1 portcullis.bearer.good']);
  assert.equal((await client.publish('room:1', { text: 'hi' })).offset, 5);
  await until(() => got.length === 1);
  assert.deepEqual(got, [[{ text: 'hi' }, 5]]);
});
