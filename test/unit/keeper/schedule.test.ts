import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffDelayMs, defaultBackoff, freeSlot, idFraction } from '../../../src/core/keeper';
import { HOUR, MINUTE, SECOND, harness } from './harness';

test('backoff waits lie between half and all of a ceiling that doubles up to the maximum', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, draw) => {
      const ceiling = Math.min(defaultBackoff.maxMs, defaultBackoff.initialMs * 2 ** (attempt - 1));
      const delay = backoffDelayMs(attempt, defaultBackoff, () => draw);
      assert.ok(delay >= Math.floor(ceiling / 2) && delay <= ceiling, `attempt ${attempt}: ${delay} ms`);
      assert.ok(backoffDelayMs(attempt + 1, defaultBackoff, () => 0) >= backoffDelayMs(attempt, defaultBackoff, () => 0));
    }),
  );
  assert.equal(backoffDelayMs(7, defaultBackoff, () => 0), 5 * MINUTE);
  assert.equal(backoffDelayMs(1, defaultBackoff, () => Number.NaN), 5 * SECOND, 'a broken random source does not break the wait');
});

test('idFraction is stable, within [0, 1), and spreads similar ids', () => {
  fc.assert(
    fc.property(fc.string(), (id) => {
      const fraction = idFraction(id);
      assert.ok(fraction >= 0 && fraction < 1);
      assert.equal(idFraction(id), fraction);
    }),
  );
  const buckets = new Set(Array.from({ length: 50 }, (_, i) => Math.floor(idFraction(`tenant-${i % 10}/user-${i}`) * 10)));
  assert.ok(buckets.size >= 8, `50 similar ids fell into only ${buckets.size} of 10 buckets`);
});

test('freeSlot finds a start clear of every planned one, preferring earlier by a bounded amount', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10 * MINUTE }),
      fc.array(fc.integer({ min: 0, max: 10 * MINUTE }), { maxLength: 60 }),
      fc.integer({ min: 1, max: 5 * SECOND }),
      fc.integer({ min: 0, max: 10 * MINUTE }),
      fc.integer({ min: 0, max: 5 * MINUTE }),
      (wanted, planned, spacing, leeway, room) => {
        const earliest = wanted - leeway;
        const clear = (slot: number) => planned.every((start) => Math.abs(start - slot) >= spacing);
        const unbounded = freeSlot(wanted, planned, spacing, -Infinity);
        assert.ok(unbounded !== undefined && unbounded <= wanted && clear(unbounded));
        assert.ok(wanted - unbounded <= 2 * spacing * planned.length);

        const latest = wanted + room;
        const slot = freeSlot(wanted, planned, spacing, earliest, latest);
        if (slot === undefined) {
          // Only when neither search found room: then wanted itself clashes.
          assert.ok(!clear(wanted));
        } else {
          assert.ok(clear(slot), `slot ${slot} within ${spacing} of a planned start`);
          assert.ok(slot === wanted || (slot >= earliest && slot <= latest));
        }
      },
    ),
  );
  assert.equal(freeSlot(1_000, [100], 1_000, 0, 1_050), undefined, 'no room on either side');
  assert.equal(freeSlot(1_000, [100], 1_000, 0, 1_100), 1_100, 'later, up to the window start, when earlier is the past');
});

test('property: every identity is refreshed within its window, early by a bounded amount, its start clear of the others', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 30 }),
      // Tokens of one tenant often expire together: many draws share one of a few expiries.
      fc.array(fc.oneof(fc.integer({ min: 0, max: 2 * HOUR }), fc.constantFrom(HOUR, HOUR + 700)), { minLength: 30, maxLength: 30 }),
      fc.integer({ min: 0, max: 30 * MINUTE }),
      async (ids, remaining, windowMs) => {
        const spreadMs = 60 * SECOND;
        const h = harness(async (_id, clock) => ({ expiresOn: new Date(clock.now() + 100 * HOUR) }), { spreadMs, maxTimerMs: 100 * HOUR });
        h.window.ms = windowMs;
        const start = h.clock.now();
        const expiries = new Map(ids.map((id, i) => [id, start + remaining[i]!]));
        for (const [id, expiresAt] of expiries) h.keeper.track(id, new Date(expiresAt));
        await h.clock.advance(2 * HOUR);
        assert.deepEqual(h.calls.map((call) => call.id).sort(), [...ids].sort(), 'each identity refreshed exactly once');
        const maxLead = spreadMs + 2 * SECOND * (ids.length - 1);
        for (const call of h.calls) {
          const windowStart = expiries.get(call.id)! - windowMs;
          assert.ok(call.at <= Math.max(start, windowStart), `${call.id} refreshed late`);
          assert.ok(call.at >= Math.min(windowStart - maxLead, windowStart) || call.at === start, `${call.id} refreshed too early`);
        }
        // Starts planned with room to move (beyond the furthest the slot search can push) never crowd each other.
        const roomy = h.calls.filter((call) => call.at > start + maxLead).map((call) => call.at).sort((a, b) => a - b);
        for (let i = 1; i < roomy.length; i++) assert.ok(roomy[i]! - roomy[i - 1]! >= SECOND, 'two planned refreshes within a second');
        h.keeper.dispose();
        assert.equal(h.clock.pendingTimers, 0);
      },
    ),
    { numRuns: 60 },
  );
});
