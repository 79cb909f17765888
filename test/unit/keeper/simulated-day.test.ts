// Fifty identities in ten tenants, kept for a simulated day: every token refreshed once per lifetime, before
// it expires, and never a burst of refreshes against the identity platform.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOUR, SECOND } from './harness';
import { DAY, REFRESH_TAKES, TENANTS, USERS_PER_TENANT, WINDOW, lifetimeOf, simulateDay } from './simulated-day';

test('a simulated day of 50 identities: one refresh per lifetime each, never expired, never two in one second', async () => {
  const { h, start, tenantOf, expiredMoments, unhealthyStates, busiestSecond } = await simulateDay({});
  assert.equal(expiredMoments, 0, 'no moment where a kept identity held an expired token');
  assert.equal(unhealthyStates, 0);
  assert.equal(busiestSecond, 1, 'no two refreshes start in the same second');

  // The spread and slot search plan at most spread + 2 s per other identity early.
  const maxLead = 60 * SECOND + 2 * SECOND * (TENANTS * USERS_PER_TENANT - 1);
  for (const [id, tenant] of tenantOf) {
    const times = h.calls.filter((call) => call.id === id).map((call) => call.at);
    const cycle = lifetimeOf(tenant) + REFRESH_TAKES - WINDOW;
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap <= cycle && gap >= cycle - maxLead, `${id}: ${gap / SECOND} s between refreshes, cycle ${cycle / SECOND} s`);
    }
    const firstCycleDeadline = HOUR + tenant * 20 * SECOND - WINDOW;
    assert.ok(times[0]! - start <= firstCycleDeadline, `${id}: first refresh after its window opened`);
    assert.ok(times.length >= Math.floor((DAY - firstCycleDeadline) / cycle), `${id}: ${times.length} refreshes`);
    assert.ok(times.length <= Math.ceil(DAY / (cycle - maxLead)), `${id}: ${times.length} refreshes`);
  }
  assert.equal(h.clock.pendingTimers, 0, 'dispose left no timer');
});

test('the same day without spread or spacing bursts: the simulation can tell the difference', async () => {
  const { expiredMoments, busiestSecond } = await simulateDay({ spreadMs: 0, minSpacingMs: 0 });
  assert.equal(expiredMoments, 0);
  assert.ok(busiestSecond >= USERS_PER_TENANT, `busiest second had ${busiestSecond} refreshes`);
});
