// Fifty identities in ten tenants, kept for a simulated day: every token refreshed once per lifetime, before
// it expires, and never a burst of refreshes against the identity platform.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeeperOptions } from '../../../src/core/keeper';
import { HOUR, MINUTE, SECOND, harness } from './harness';

const DAY = 24 * HOUR;
const WINDOW = 10 * MINUTE;
const REFRESH_TAKES = 2 * SECOND;
const TENANTS = 10;
const USERS_PER_TENANT = 5;

/** Entra ID hands out tokens of 60 to 90 minutes; each tenant gets its own lifetime. */
function lifetimeOf(tenant: number): number {
  return 60 * MINUTE + ((tenant * 7) % 31) * MINUTE + tenant * 17 * SECOND;
}

async function simulateDay(options: Partial<KeeperOptions>) {
  const tenantOf = new Map<string, number>();
  const expiry = new Map<string, number>();
  const h = harness(async (id, clock) => {
    await clock.sleep(REFRESH_TAKES);
    const expiresOn = clock.now() + lifetimeOf(tenantOf.get(id)!);
    expiry.set(id, expiresOn);
    return { expiresOn: new Date(expiresOn) };
  }, options);
  h.window.ms = WINDOW;
  const start = h.clock.now();
  for (let tenant = 0; tenant < TENANTS; tenant++) {
    // Everyone in a tenant signed in at the same moment; the tenants within a few seconds of each other.
    const expiresOn = start + HOUR + tenant * 20 * SECOND;
    for (let user = 0; user < USERS_PER_TENANT; user++) {
      const id = `tenant-${tenant}/user-${user}`;
      tenantOf.set(id, tenant);
      expiry.set(id, expiresOn);
      h.keeper.track(id, new Date(expiresOn));
    }
  }
  let expiredMoments = 0;
  let unhealthyStates = 0;
  for (let elapsed = 0; elapsed < DAY; elapsed += 10 * SECOND) {
    await h.clock.advance(10 * SECOND);
    for (const expiresOn of expiry.values()) if (expiresOn <= h.clock.now()) expiredMoments++;
    for (const state of h.keeper.states().values()) if (state.kind !== 'fresh' && state.kind !== 'refreshing') unhealthyStates++;
  }
  h.keeper.dispose();
  const perSecond = new Map<number, number>();
  for (const call of h.calls) perSecond.set(Math.floor(call.at / SECOND), (perSecond.get(Math.floor(call.at / SECOND)) ?? 0) + 1);
  return { h, start, tenantOf, expiredMoments, unhealthyStates, busiestSecond: Math.max(...perSecond.values()) };
}

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
