// Fifty identities in ten tenants kept by the keeper over a simulated day on the fake clock. The keeper's
// tests assert on it; the refresh benchmark reports it beside the same keeper without spread or spacing.
import type { KeeperOptions } from '../../../src/core/keeper';
import { HOUR, MINUTE, SECOND, harness } from './harness';

export const DAY = 24 * HOUR;
export const WINDOW = 10 * MINUTE;
export const REFRESH_TAKES = 2 * SECOND;
export const TENANTS = 10;
export const USERS_PER_TENANT = 5;
export const SAMPLE_EVERY = 10 * SECOND;

/** Entra ID hands out tokens of 60 to 90 minutes; each tenant gets its own lifetime. */
export function lifetimeOf(tenant: number): number {
  return 60 * MINUTE + ((tenant * 7) % 31) * MINUTE + tenant * 17 * SECOND;
}

export async function simulateDay(options: Partial<KeeperOptions>) {
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
  /** Σ over identities of the refreshes a keeper needs that refreshes each token exactly once, at its window. */
  let onePerLifetime = 0;
  for (let tenant = 0; tenant < TENANTS; tenant++) {
    // Everyone in a tenant signed in at the same moment; the tenants within a few seconds of each other.
    const expiresOn = start + HOUR + tenant * 20 * SECOND;
    for (let user = 0; user < USERS_PER_TENANT; user++) {
      const id = `tenant-${tenant}/user-${user}`;
      tenantOf.set(id, tenant);
      expiry.set(id, expiresOn);
      h.keeper.track(id, new Date(expiresOn));
      for (let due = expiresOn - WINDOW; due < start + DAY; due += lifetimeOf(tenant) + REFRESH_TAKES - WINDOW) onePerLifetime++;
    }
  }
  /** Identity-samples holding an expired token, and samples in which any identity did. */
  let expiredMoments = 0;
  let expiredSamples = 0;
  let unhealthyStates = 0;
  for (let elapsed = 0; elapsed < DAY; elapsed += SAMPLE_EVERY) {
    await h.clock.advance(SAMPLE_EVERY);
    const expired = [...expiry.values()].filter((expiresOn) => expiresOn <= h.clock.now()).length;
    expiredMoments += expired;
    if (expired > 0) expiredSamples++;
    for (const state of h.keeper.states().values()) if (state.kind !== 'fresh' && state.kind !== 'refreshing') unhealthyStates++;
  }
  h.keeper.dispose();
  const perSecond = new Map<number, number>();
  for (const call of h.calls) perSecond.set(Math.floor(call.at / SECOND), (perSecond.get(Math.floor(call.at / SECOND)) ?? 0) + 1);
  /** A refresh started while the token from the previous one was still new. */
  let doubleRefreshes = 0;
  for (const [id, tenant] of tenantOf) {
    const times = h.calls.filter((call) => call.id === id).map((call) => call.at);
    for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! < lifetimeOf(tenant) / 2) doubleRefreshes++;
  }
  return {
    h,
    start,
    tenantOf,
    refreshCalls: h.calls.length,
    onePerLifetime,
    busiestSecond: Math.max(0, ...perSecond.values()),
    expiredMoments,
    expiredSamples,
    unhealthyStates,
    doubleRefreshes,
  };
}
