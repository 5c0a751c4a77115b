import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { DeadlineQueue, type Deadlined } from '../../../src/daemon/gate/deadline-queue.js';

interface Item extends Deadlined {
  readonly name: string;
}

function setup(): { clock: ManualClock; queue: DeadlineQueue<Item>; fired: string[]; item: (name: string, inMs: number) => Item } {
  const clock = new ManualClock();
  const fired: string[] = [];
  const queue = new DeadlineQueue<Item>(clock, (i) => fired.push(i.name));
  return { clock, queue, fired, item: (name, inMs) => ({ name, deadline: clock.monotonic() + inMs, slot: -1 }) };
}

describe('DeadlineQueue', () => {
  it('fires each item once its monotonic deadline passes, in deadline order', () => {
    const { clock, queue, fired, item } = setup();
    for (const [name, ms] of [['c', 300], ['a', 100], ['d', 400], ['b', 200]] as const) queue.add(item(name, ms));
    clock.advance(99);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, ['a']);
    clock.advance(1000);
    assert.deepEqual(fired, ['a', 'b', 'c', 'd']);
    assert.equal(queue.size, 0);
  });

  it('never fires a deleted item, whichever slot it held', () => {
    const { clock, queue, fired, item } = setup();
    const items = Array.from({ length: 50 }, (_, i) => item(`i${i}`, ((i * 37) % 50) + 1));
    for (const i of items) queue.add(i);
    const dropped = new Set(items.filter((_, i) => i % 3 === 0));
    for (const i of dropped) queue.delete(i);
    assert.equal(queue.size, 50 - dropped.size);
    clock.advance(100);
    const expected = items
      .filter((i) => !dropped.has(i))
      .sort((x, y) => x.deadline - y.deadline)
      .map((i) => i.name);
    assert.deepEqual(fired, expected);
    for (const i of items) assert.equal(i.slot, -1);
  });

  it('re-arms for an item added earlier than the current earliest, and after the earliest is deleted', () => {
    const { clock, queue, fired, item } = setup();
    const late = item('late', 1000);
    queue.add(late);
    queue.add(item('early', 10));
    clock.advance(10);
    assert.deepEqual(fired, ['early']);
    const middle = item('middle', 100);
    queue.add(middle);
    queue.delete(middle);
    clock.advance(100);
    assert.deepEqual(fired, ['early']);
    clock.advance(890);
    assert.deepEqual(fired, ['early', 'late']);
  });

  it('ignores a second add and a delete of an item it does not hold', () => {
    const { clock, queue, fired, item } = setup();
    const a = item('a', 5);
    queue.add(a);
    queue.add(a);
    queue.delete(item('stranger', 1));
    assert.equal(queue.size, 1);
    clock.advance(5);
    assert.deepEqual(fired, ['a']);
  });

  it('clear drops everything and its timer', () => {
    const { clock, queue, fired, item } = setup();
    queue.add(item('a', 5));
    queue.add(item('b', 6));
    queue.clear();
    clock.advance(100);
    assert.deepEqual(fired, []);
    assert.equal(queue.size, 0);
  });
});
