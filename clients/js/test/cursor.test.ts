import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cursor, type Publication } from '../src/cursor.js';

/** Records what a cursor decides: delivered offsets (r = recovered) and gaps. */
function recorder() {
  const events: string[] = [];
  return {
    events,
    sink: {
      gap: (at: { offset: number; epoch?: string }) => events.push(`gap@${at.offset}/${at.epoch}`),
      deliver: (p: Publication, recovered: boolean) => events.push(recovered ? `${p.offset}r` : `${p.offset}`),
    },
  };
}
const msg = (offset: number, epoch = 'e1'): Publication => ({ offset, epoch, data: offset });

test('holds messages until the ack, then delivers only what follows the ack position', () => {
  const { events, sink } = recorder();
  const c = new Cursor();
  c.message(msg(4), sink);
  c.message(msg(6), sink);
  assert.deepEqual(events, []);
  c.ack(5, 'e1', undefined, false, sink);
  assert.deepEqual(events, ['6']);
});

test('drops duplicates: a replay overlapping what was delivered', () => {
  const { events, sink } = recorder();
  const c = new Cursor();
  c.ack(0, 'e1', undefined, false, sink);
  for (const o of [1, 2, 3, 2, 3, 1, 4]) c.message(msg(o), sink);
  assert.deepEqual(events, ['1', '2', '3', '4']);
});

test('resume: a recovered ack keeps the position; replays are flagged recovered, live ones not', () => {
  const { events, sink } = recorder();
  const c = new Cursor({ offset: 3, epoch: 'e1' });
  assert.equal(c.ack(6, 'e1', true, true, sink), true);
  for (const o of [2, 3, 4, 5, 6, 7]) c.message(msg(o), sink);
  assert.deepEqual(events, ['4r', '5r', '6r', '7']);
});

test('reorders: live messages that overtook the ack wait for the replay that fills the hole', () => {
  const { events, sink } = recorder();
  const c = new Cursor({ offset: 3, epoch: 'e1' });
  c.message(msg(7), sink); // live, pushed before the resubscribe's ack (automatic channel)
  c.message(msg(8), sink);
  c.ack(8, 'e1', true, true, sink);
  assert.deepEqual(events, []);
  for (const o of [4, 5, 6, 7, 8]) c.message(msg(o), sink); // the replay after the ack
  assert.deepEqual(events, ['4r', '5r', '6r', '7r', '8r']);
  c.message(msg(9), sink);
  assert.deepEqual(events.slice(-1), ['9']);
});

test('a held message whose replay never comes is released late, with a gap, never lost', () => {
  const { events, sink } = recorder();
  const c = new Cursor({ offset: 3, epoch: 'e1' });
  c.message(msg(6), sink);
  c.ack(6, 'e1', true, true, sink);
  c.message(msg(4), sink);
  c.message(msg(7), sink); // 5 never came
  assert.deepEqual(events, ['4r', 'gap@5/e1', '6r', '7']);
});

test('a resume answered recovered:false is a gap, and continues from the ack', () => {
  const { events, sink } = recorder();
  const c = new Cursor({ offset: 3, epoch: 'e1' });
  assert.equal(c.ack(40, 'e1', false, true, sink), false);
  c.message(msg(40), sink);
  c.message(msg(41), sink);
  assert.deepEqual(events, ['gap@40/e1', '41']);
});

test('an ack of another epoch than the position is a gap even if it says recovered', () => {
  const { events, sink } = recorder();
  const c = new Cursor({ offset: 3, epoch: 'e1' });
  c.ack(2, 'e2', true, true, sink);
  assert.deepEqual(events, ['gap@2/e2']);
});

test('a skipped offset within the epoch is reported before the message', () => {
  const { events, sink } = recorder();
  const c = new Cursor();
  c.ack(0, 'e1', undefined, false, sink);
  c.message(msg(1), sink);
  c.message(msg(3), sink);
  assert.deepEqual(events, ['1', 'gap@2/e1', '3']);
});

test('a message of another epoch is a gap, then delivery continues from it', () => {
  const { events, sink } = recorder();
  const c = new Cursor();
  c.ack(0, 'e1', undefined, false, sink);
  c.message(msg(1), sink);
  c.message(msg(1, 'e2'), sink);
  c.message(msg(2, 'e2'), sink);
  assert.deepEqual(events, ['1', 'gap@0/e2', '1', '2']);
});

test("the gateway's gap notice moves the position; ignored while awaiting an ack", () => {
  const { events, sink } = recorder();
  const c = new Cursor();
  c.gapNotice(10, 'e1', sink);
  assert.deepEqual(events, []);
  c.ack(2, 'e1', undefined, false, sink);
  c.gapNotice(10, 'e9', sink);
  c.message(msg(10, 'e9'), sink);
  c.message(msg(11, 'e9'), sink);
  assert.deepEqual(events, ['gap@10/e9', '11']);
});

test('after a lost connection nothing is delivered until the resubscribe is acked', () => {
  const { events, sink } = recorder();
  const c = new Cursor();
  c.ack(0, 'e1', undefined, false, sink);
  c.message(msg(1), sink);
  c.lost();
  c.message(msg(2), sink); // a straggler of the old connection
  assert.deepEqual(events, ['1']);
  assert.deepEqual(c.position, { offset: 1, epoch: 'e1' });
  c.ack(3, 'e1', true, true, sink);
  for (const o of [2, 3]) c.message(msg(o), sink);
  assert.deepEqual(events, ['1', '2r', '3r']);
});

test('a cursor that does not hold (automatic channels) delivers at once', () => {
  const { events, sink } = recorder();
  const c = new Cursor(undefined, false);
  c.message(msg(5), sink);
  c.message(msg(5), sink);
  c.message(msg(6), sink);
  assert.deepEqual(events, ['5', '6']);
});
