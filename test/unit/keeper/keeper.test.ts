import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefreshFailure, type RefreshOutcome } from '../../../src/core/keeper';
import { HOUR, MINUTE, SECOND, deferred, harness, succeedsFor } from './harness';

test('refreshes at expiry minus the window, then again for the new token', async () => {
  const h = harness(succeedsFor(HOUR), { spreadMs: 0 });
  const start = h.clock.now();
  h.keeper.track('alice', new Date(start + HOUR));
  assert.deepEqual(h.keeper.state('alice'), { kind: 'fresh', expiresOn: new Date(start + HOUR), refreshAt: new Date(start + 50 * MINUTE) });

  await h.clock.advance(50 * MINUTE - 1);
  assert.equal(h.calls.length, 0, 'nothing before the window opens');
  await h.clock.advance(1);
  assert.deepEqual(h.calls, [{ id: 'alice', at: start + 50 * MINUTE }]);
  assert.deepEqual(h.keeper.state('alice'), {
    kind: 'fresh',
    expiresOn: new Date(start + 110 * MINUTE),
    refreshAt: new Date(start + 100 * MINUTE),
  });
  await h.clock.advance(50 * MINUTE);
  assert.deepEqual(h.calls.map((call) => call.at - start), [50 * MINUTE, 100 * MINUTE]);
  assert.deepEqual(
    h.changes.map((change) => change.state.kind),
    ['fresh', 'refreshing', 'fresh', 'refreshing', 'fresh'],
  );
  h.keeper.dispose();
});

test('the per-id spread plans a refresh earlier than the window, never later', async () => {
  const h = harness(succeedsFor(HOUR), { spreadMs: 60 * SECOND });
  const start = h.clock.now();
  h.keeper.track('bob', new Date(start + HOUR));
  const state = h.keeper.state('bob');
  assert.equal(state?.kind, 'fresh');
  const lead = start + 50 * MINUTE - (state.kind === 'fresh' ? state.refreshAt.getTime() : 0);
  assert.ok(lead >= 0 && lead < 60 * SECOND, `lead ${lead} ms`);
  await h.clock.advance(50 * MINUTE);
  assert.equal(h.calls.length, 1);
  assert.equal(h.calls[0]?.at, start + 50 * MINUTE - lead);
  h.keeper.dispose();
});

test('a token already inside its window is refreshed at once', async () => {
  const h = harness(succeedsFor(HOUR));
  const start = h.clock.now();
  h.keeper.track('carol', new Date(start + 5 * MINUTE));
  assert.equal(h.keeper.state('carol')?.kind, 'refreshing');
  await h.clock.advance(0);
  assert.deepEqual(h.calls, [{ id: 'carol', at: start }]);
  assert.equal(h.keeper.state('carol')?.kind, 'fresh');
  h.keeper.dispose();
});

test('a longer window from the setting takes effect at the next wake-up, a shorter one moves the plan later', async () => {
  const h = harness(succeedsFor(HOUR), { spreadMs: 0 });
  const start = h.clock.now();
  h.keeper.track('dave', new Date(start + HOUR));
  await h.clock.advance(20 * MINUTE);
  h.window.ms = 45 * MINUTE; // the refresh is now 5 minutes overdue
  await h.clock.advance(60 * SECOND);
  assert.equal(h.calls.length, 1, 'overdue plan noticed within one timer period');
  assert.ok(h.calls[0]!.at - start <= 21 * MINUTE);

  h.window.ms = 5 * MINUTE;
  h.keeper.reschedule();
  const state = h.keeper.state('dave');
  assert.equal(state?.kind, 'fresh');
  assert.equal(state.kind === 'fresh' && state.refreshAt.getTime(), h.calls[0]!.at + HOUR - 5 * MINUTE);
  h.keeper.dispose();
});

test('a window longer than the token lifetime does not turn into a refresh loop', async () => {
  const h = harness(succeedsFor(5 * MINUTE), { minRefreshIntervalMs: 60 * SECOND });
  h.keeper.track('erin', new Date(h.clock.now() + 5 * MINUTE));
  await h.clock.advance(HOUR);
  assert.ok(h.calls.length >= 55 && h.calls.length <= 61, `${h.calls.length} calls in an hour`);
  for (let i = 1; i < h.calls.length; i++) assert.ok(h.calls[i]!.at - h.calls[i - 1]!.at >= 60 * SECOND);
  h.keeper.dispose();
});

test('transient failures back off 5 s doubling to 5 min, then success resets the attempt count', async () => {
  let failuresLeft = 9;
  const h = harness(
    async (_id, clock) => {
      if (failuresLeft-- > 0) throw new RefreshFailure('The identity platform answered 503.', { kind: 'wait' });
      return { expiresOn: new Date(clock.now() + HOUR) };
    },
    { random: () => 0, spreadMs: 0 },
  );
  const start = h.clock.now();
  h.window.ms = 45 * MINUTE; // leaves the whole backoff sequence before expiry
  h.keeper.track('frank', new Date(start + HOUR));
  await h.clock.advance(40 * MINUTE);
  const gaps = h.calls.slice(1).map((call, i) => (call.at - h.calls[i]!.at) / SECOND);
  assert.deepEqual(gaps, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
  const retrying = h.changes.filter((change) => change.state.kind === 'retrying').map((change) => change.state);
  assert.deepEqual(
    retrying.map((state) => state.kind === 'retrying' && state.attempt),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.ok(retrying.every((state) => state.kind === 'retrying' && state.reason === 'The identity platform answered 503.'));
  assert.equal(h.keeper.state('frank')?.kind, 'fresh');

  failuresLeft = 1;
  await h.clock.advance(HOUR);
  const afterReset = h.changes.filter((change) => change.state.kind === 'retrying').at(-1)?.state;
  assert.equal(afterReset?.kind === 'retrying' && afterReset.attempt, 1, 'a success starts the backoff over');
  h.keeper.dispose();
});

test('backoff jitter shortens waits by up to half, and only shortens them', async () => {
  const h = harness(
    async () => {
      throw new RefreshFailure('timeout', { kind: 'wait' });
    },
    { random: () => 0.999_999 },
  );
  h.keeper.track('gina', new Date(h.clock.now() - 1));
  await h.clock.advance(10 * MINUTE);
  const gaps = h.calls.slice(1, 5).map((call, i) => call.at - h.calls[i]!.at);
  assert.deepEqual(gaps, [2_500, 5_000, 10_000, 20_000]);
  h.keeper.dispose();
});

test('when expiry passes while retrying the state says expired with the reason, and retries go on', async () => {
  let healthy = false;
  const h = harness(
    async (_id, clock) => {
      if (!healthy) throw new Error('connect ECONNREFUSED 127.0.0.1:443');
      return { expiresOn: new Date(clock.now() + HOUR) };
    },
    { random: () => 0 },
  );
  const start = h.clock.now();
  h.keeper.track('hank', new Date(start + 30 * SECOND));
  await h.clock.advance(29 * SECOND);
  assert.equal(h.keeper.state('hank')?.kind, 'retrying', 'an unknown error counts as transient');

  await h.clock.advance(1 * SECOND);
  const expired = h.keeper.state('hank');
  assert.equal(expired?.kind, 'expired', 'turns expired exactly at expiry, between attempts');
  assert.equal(expired.kind === 'expired' && expired.reason, 'connect ECONNREFUSED 127.0.0.1:443');
  assert.equal(h.changes.find((change) => change.state.kind === 'expired')?.at, start + 30 * SECOND);

  const callsAtExpiry = h.calls.length;
  await h.clock.advance(10 * MINUTE);
  assert.ok(h.calls.length > callsAtExpiry, 'still retrying after expiry');
  assert.equal(h.keeper.state('hank')?.kind, 'expired');

  healthy = true;
  await h.clock.advance(5 * MINUTE);
  assert.equal(h.keeper.state('hank')?.kind, 'fresh');
  h.keeper.dispose();
});

test('a failure that is not retryable asks for sign-in and stops; track() after sign-in resumes', async () => {
  const h = harness(async () => {
    throw new RefreshFailure('The refresh token was revoked; sign in again.', { kind: 'signInAgain' });
  });
  h.keeper.track('ivy', new Date(h.clock.now() + 5 * MINUTE));
  await h.clock.advance(0);
  assert.deepEqual(h.keeper.state('ivy'), { kind: 'needsSignIn', reason: 'The refresh token was revoked; sign in again.', remedy: { kind: 'signInAgain' } });
  assert.equal(h.clock.pendingTimers, 0, 'no timer left for an identity that needs sign-in');
  await h.clock.advance(24 * HOUR);
  assert.equal(h.calls.length, 1);

  h.keeper.track('ivy', new Date(h.clock.now() + HOUR));
  assert.equal(h.keeper.state('ivy')?.kind, 'fresh');
  h.keeper.dispose();
});

test('a refresh that reports an expiry in the past is retried, not believed', async () => {
  const h = harness(async (_id, clock) => ({ expiresOn: new Date(clock.now() - 1) }), { random: () => 0 });
  h.keeper.track('jack', new Date(h.clock.now() + MINUTE));
  await h.clock.advance(0);
  const state = h.keeper.state('jack');
  assert.equal(state?.kind, 'retrying');
  assert.equal(state.kind === 'retrying' && state.nextAttemptAt.getTime(), h.clock.now() + 5 * SECOND);
  h.keeper.dispose();
});

test('after a sleep past expiry the keeper refreshes within one timer period of waking', async () => {
  const h = harness(succeedsFor(HOUR), { maxTimerMs: 60 * SECOND });
  const start = h.clock.now();
  h.keeper.track('kate', new Date(start + HOUR));
  await h.clock.advance(10 * MINUTE);
  h.clock.jump(3 * HOUR);
  const wokeAt = h.clock.now();
  assert.equal(h.calls.length, 0, 'nothing runs while asleep');
  await h.clock.advance(60 * SECOND);
  assert.equal(h.calls.length, 1);
  assert.ok(h.calls[0]!.at - wokeAt <= 60 * SECOND, `refreshed ${h.calls[0]!.at - wokeAt} ms after waking`);
  const state = h.keeper.state('kate');
  assert.equal(state?.kind === 'fresh' && state.expiresOn.getTime(), h.calls[0]!.at + HOUR);
  h.keeper.dispose();
});

test('refreshNow during a scheduled refresh joins it: one call, every caller resolves after it', async () => {
  const pending = deferred<RefreshOutcome>();
  const h = harness(() => pending.promise, { spreadMs: 0 });
  const start = h.clock.now();
  h.keeper.track('liam', new Date(start + HOUR));
  h.keeper.track('mona', new Date(start + 2 * HOUR));
  await h.clock.advance(50 * MINUTE);
  assert.equal(h.keeper.state('liam')?.kind, 'refreshing');

  const settled: string[] = [];
  const one = h.keeper.refreshNow('liam').then(() => settled.push('one'));
  const again = h.keeper.refreshNow('liam').then(() => settled.push('again'));
  await h.clock.advance(0);
  assert.deepEqual(h.calls.map((call) => call.id), ['liam'], 'joined, not repeated');
  assert.deepEqual(settled, []);

  pending.resolve({ expiresOn: new Date(h.clock.now() + HOUR) });
  await Promise.all([one, again]);
  assert.deepEqual(settled.sort(), ['again', 'one']);
  assert.equal(h.keeper.state('liam')?.kind, 'fresh');

  await h.keeper.refreshNow();
  assert.deepEqual(h.calls.map((call) => call.id).sort(), ['liam', 'liam', 'mona']);
  h.keeper.dispose();
});

test('refreshNow resolves on failure too, and refreshNow of an unknown id does nothing', async () => {
  const h = harness(async () => {
    throw new RefreshFailure('invalid_grant', { kind: 'signInAgain' });
  });
  h.keeper.track('nina', new Date(h.clock.now() + HOUR));
  await h.keeper.refreshNow('nina');
  assert.equal(h.keeper.state('nina')?.kind, 'needsSignIn');
  await h.keeper.refreshNow('nobody');
  assert.equal(h.calls.length, 1);
  h.keeper.dispose();
});

test('track() while a refresh runs replaces the schedule without starting a second refresh', async () => {
  const first = deferred<RefreshOutcome>();
  let inFlight = 0;
  let maxInFlight = 0;
  const h = harness(async (_id, clock) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      return h.calls.length === 1 ? await first.promise : { expiresOn: new Date(clock.now() + HOUR) };
    } finally {
      inFlight--;
    }
  });
  h.keeper.track('otto', new Date(h.clock.now() + MINUTE));
  await h.clock.advance(0);
  h.keeper.track('otto', new Date(h.clock.now() + 30 * SECOND)); // due at once, but one is already running
  await h.clock.advance(0);
  assert.equal(h.calls.length, 1);

  first.resolve({ expiresOn: new Date(h.clock.now() + 2 * HOUR) });
  await h.clock.advance(0);
  assert.equal(h.calls.length, 2, 'the newer, overdue schedule refreshes after the older refresh ends');
  assert.equal(maxInFlight, 1);
  const state = h.keeper.state('otto');
  assert.equal(state?.kind === 'fresh' && state.expiresOn.getTime(), h.clock.now() + HOUR);
  h.keeper.dispose();
});

test('untrack cancels the schedule; a refresh finishing after untrack changes nothing', async () => {
  const pending = deferred<RefreshOutcome>();
  const h = harness(() => pending.promise);
  h.keeper.track('paul', new Date(h.clock.now() + HOUR));
  h.keeper.track('quin', new Date(h.clock.now() + MINUTE));
  await h.clock.advance(0);
  h.keeper.untrack('paul');
  h.keeper.untrack('quin');
  assert.equal(h.clock.pendingTimers, 0);
  pending.resolve({ expiresOn: new Date(h.clock.now() + HOUR) });
  await h.clock.advance(24 * HOUR);
  assert.deepEqual(h.calls.map((call) => call.id), ['quin']);
  assert.equal(h.keeper.states().size, 0);
  assert.equal(h.clock.pendingTimers, 0);
});

test('dispose cancels every timer, including retries and refreshes that finish afterwards', async () => {
  const pending = deferred<RefreshOutcome>();
  const h = harness(async (id, clock) => {
    if (id === 'slow') return pending.promise;
    if (id === 'flaky') throw new RefreshFailure('503', { kind: 'wait' });
    return { expiresOn: new Date(clock.now() + HOUR) };
  });
  const now = h.clock.now();
  h.keeper.track('steady', new Date(now + HOUR));
  h.keeper.track('flaky', new Date(now + MINUTE));
  h.keeper.track('slow', new Date(now + MINUTE));
  await h.clock.advance(0);
  assert.equal(h.keeper.state('flaky')?.kind, 'retrying');
  assert.ok(h.clock.pendingTimers >= 2);

  h.keeper.dispose();
  assert.equal(h.clock.pendingTimers, 0);
  pending.resolve({ expiresOn: new Date(h.clock.now() + HOUR) });
  await h.clock.advance(HOUR);
  assert.equal(h.clock.pendingTimers, 0);
  assert.throws(() => h.keeper.track('late', new Date(now + HOUR)), /disposed/);
});

test('no timer sleeps longer than maxTimerMs', async () => {
  const h = harness(succeedsFor(24 * HOUR), { maxTimerMs: 30 * SECOND });
  const delays: number[] = [];
  const setTimeout = h.clock.setTimeout.bind(h.clock);
  h.clock.setTimeout = (callback, delayMs) => {
    delays.push(delayMs);
    return setTimeout(callback, delayMs);
  };
  h.keeper.track('rita', new Date(h.clock.now() + 24 * HOUR));
  await h.clock.advance(2 * HOUR);
  assert.ok(delays.length >= 240);
  assert.ok(delays.every((delay) => delay > 0 && delay <= 30 * SECOND));
  h.keeper.dispose();
});

test('a throwing state listener is logged and the keeping continues', async () => {
  const h = harness(succeedsFor(HOUR), {
    onDidChangeState: () => {
      throw new Error('tree view gone');
    },
  });
  h.keeper.track('sam', new Date(h.clock.now() + MINUTE));
  await h.clock.advance(0);
  assert.equal(h.calls.length, 1);
  assert.equal(h.keeper.state('sam')?.kind, 'fresh');
  assert.ok(h.logs.some((line) => line.startsWith('error ') && line.includes('tree view gone')));
  h.keeper.dispose();
});

test('log lines name identities, expiries and reasons, never what refresh returned beyond the expiry', async () => {
  const secretLooking = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  const h = harness(async (_id, clock) => ({ expiresOn: new Date(clock.now() + HOUR), accessToken: secretLooking }) as RefreshOutcome);
  h.keeper.track('tess', new Date(h.clock.now() + MINUTE));
  await h.clock.advance(2 * HOUR);
  assert.ok(h.logs.some((line) => line.startsWith('info Refreshed tess')));
  assert.ok(h.logs.every((line) => !line.includes(secretLooking)));
  assert.ok(h.changes.every((change) => !JSON.stringify(change.state).includes(secretLooking)));
  h.keeper.dispose();
});

test('the platform\'s Retry-After is a floor under the backoff: no retry comes sooner', async () => {
  let failuresLeft = 2;
  const h = harness(
    async (_id, clock) => {
      if (failuresLeft-- > 0) throw new RefreshFailure('HTTP 429', { kind: 'wait', retryAfterMs: 90 * SECOND });
      return { expiresOn: new Date(clock.now() + HOUR) };
    },
    { random: () => 0, spreadMs: 0 },
  );
  h.keeper.track('kate', new Date(h.clock.now() + 5 * MINUTE));
  await h.clock.advance(10 * MINUTE);
  const gaps = h.calls.slice(1).map((call, i) => (call.at - h.calls[i]!.at) / SECOND);
  assert.deepEqual(gaps, [90, 90], 'both retries waited the 90 s the platform asked for, not 5 s and 10 s');
  assert.equal(h.keeper.state('kate')?.kind, 'fresh');
  h.keeper.dispose();
});

test('a file that must be fixed is retried, never turned into "sign in again", and listed as waiting to heal', async () => {
  let fixed = false;
  const h = harness(
    async (_id, clock) => {
      if (!fixed) throw new RefreshFailure('The kubeconfig is not valid YAML.', { kind: 'fixFile', file: '/k/config' });
      return { expiresOn: new Date(clock.now() + HOUR) };
    },
    { random: () => 0, spreadMs: 0 },
  );
  h.keeper.track('liam', new Date(h.clock.now() + 5 * MINUTE));
  await h.clock.advance(2 * MINUTE);
  const state = h.keeper.state('liam');
  assert.equal(state?.kind, 'retrying');
  assert.deepEqual(state?.kind === 'retrying' && state.remedy, { kind: 'fixFile', file: '/k/config' });
  assert.deepEqual(h.keeper.waitingToHeal(), ['liam']);
  fixed = true;
  // The caller retries at once when the file changes, without waiting for the backoff.
  await h.keeper.refreshNow('liam');
  assert.equal(h.keeper.state('liam')?.kind, 'fresh');
  assert.deepEqual(h.keeper.waitingToHeal(), []);
  h.keeper.dispose();
});

test('a refresh deferred to another refresher is looked at again then, with no backoff and no failure state', async () => {
  let othersAtWork = true;
  const h = harness(
    async (_id, clock) => {
      if (othersAtWork) return { deferredUntil: new Date(clock.now() + 30 * SECOND), reason: 'another window refreshes it' };
      return { expiresOn: new Date(clock.now() + HOUR) };
    },
    { spreadMs: 0 },
  );
  const start = h.clock.now();
  h.keeper.track('mia', new Date(start + 5 * MINUTE));
  await h.clock.advance(70 * SECOND);
  assert.deepEqual(h.calls.map((call) => (call.at - start) / SECOND), [0, 30, 60]);
  assert.ok(h.changes.every((change) => change.state.kind === 'fresh' || change.state.kind === 'refreshing'), 'never retrying or expired');
  othersAtWork = false;
  await h.clock.advance(30 * SECOND);
  const state = h.keeper.state('mia');
  assert.equal(state?.kind, 'fresh');
  assert.ok(state?.kind === 'fresh' && state.expiresOn.getTime() > start + 55 * MINUTE);
  h.keeper.dispose();
});
