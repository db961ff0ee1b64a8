// The JS client in Node for deploy/compose/test.sh: subscribes to alerts through HAProxy and prints
// "subscribed", "message <seq> <offset> live|recovered" per publication, "disconnected <code>".
import WebSocket from '../../clients/js/node_modules/ws/index.js';
import { PortcullisClient } from '../../clients/js/dist/portcullis.js';

const [url, token] = process.argv.slice(2);
const client = new PortcullisClient({ url, getToken: () => token, WebSocket, backoffBaseMs: 200, backoffCapMs: 2000 });
client.on('disconnected', ({ code }) => console.log('disconnected', code));
const sub = client.subscribe('alerts', (data, { offset, recovered }) =>
  console.log('message', data.seq, offset, recovered ? 'recovered' : 'live'));
sub.on('gap', () => console.log('gap'));
await sub.ready;
console.log('subscribed');
setTimeout(() => process.exit(0), 120_000);
