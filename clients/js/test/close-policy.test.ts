import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconnectAfterClose, reconnectAfterRefusal } from '../src/close-policy.js';

test('close codes: the table of docs/protocol.md', () => {
  const table: [number, boolean][] = [
    [1000, true], [1001, true], [1005, true], [1006, true], [1011, true],
    [1002, false], [1003, false], [1007, false], [1008, false], [1009, false], [1010, false],
    [4000, true], [4001, true], [4002, true], [4008, true], [4009, true], [4499, true],
    [4500, false], [4501, false], [4503, false], [4999, false],
  ];
  for (const [code, again] of table) assert.equal(reconnectAfterClose(code), again, `close ${code}`);
});

test('refused handshakes: retry 401, 408, 429 and 5xx, stop on other 4xx', () => {
  const table: [number, boolean][] = [
    [401, true], [408, true], [425, true], [429, true], [500, true], [502, true], [503, true], [504, true],
    [400, false], [403, false], [404, false], [426, false],
  ];
  for (const [status, again] of table) assert.equal(reconnectAfterRefusal(status), again, `status ${status}`);
});
