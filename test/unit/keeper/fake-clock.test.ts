import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../support/fake-clock';

test('the fake clock runs due timers in order, each at its own time, and jump() only moves the wall clock', async () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
  clock.setTimeout(() => fired.push(`a2@${clock.now()}`), 100);
  const cancelled = clock.setTimeout(() => fired.push('never'), 150);
  cancelled.dispose();
  await clock.advance(150);
  assert.deepEqual(fired, ['a@100', 'a2@100']);
  assert.equal(clock.now(), 150);

  clock.jump(10_000);
  assert.equal(clock.now(), 10_150);
  await clock.advance(49);
  assert.deepEqual(fired, ['a@100', 'a2@100'], 'a suspend does not use up the remaining delay of a timer');
  await clock.advance(1);
  assert.deepEqual(fired, ['a@100', 'a2@100', 'b@10200']);

  const chain: number[] = [];
  clock.setTimeout(() => clock.setTimeout(() => chain.push(clock.now()), 10), 10);
  const slept = clock.sleep(5).then(() => chain.push(clock.now()));
  await clock.advance(20);
  await slept;
  assert.deepEqual(chain, [10_205, 10_220], 'timers set by timers run within the same advance');
  assert.equal(clock.pendingTimers, 0);
});
