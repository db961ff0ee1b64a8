// A plain WebSocket client for deploy/container/test.sh: connects with a token in the subprotocol
// list, prints "connected", each publication's data as "message <json>", and "closed <code>".
import WebSocket from '../../clients/js/node_modules/ws/index.js';

const [url, token] = process.argv.slice(2);
const socket = new WebSocket(url, ['portcullis.v1', `portcullis.bearer.${token}`]);
socket.on('message', (raw) => {
  const frame = JSON.parse(String(raw));
  if (frame.type === 'connected') console.log('connected', frame.user);
  else if (frame.type === 'message') console.log('message', JSON.stringify(frame.data));
});
socket.on('close', (code) => {
  console.log('closed', code);
  process.exit(0);
});
socket.on('error', (error) => {
  console.log('error', error.message);
  process.exit(1);
});
setTimeout(() => {
  console.log('timeout');
  process.exit(1);
}, 60_000);
