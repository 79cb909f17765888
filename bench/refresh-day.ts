// Benchmark 4: fifty identities in ten tenants kept current over a simulated day on the fake clock, the
// keeper as the extension configures it beside the same keeper without spread or spacing (every identity
// of a tenant then refreshes at the same moment: the herd the spread exists to break up).
import type { KeeperOptions } from '../src/core/keeper';
import { HOUR, MINUTE, SECOND, harness } from '../test/unit/keeper/harness';
import { BenchResult, check, Row } from './lib';

const DAY = 24 * HOUR;
const WINDOW = 10 * MINUTE;
const REFRESH_TAKES = 2 * SECOND;
const TENANTS = 10;
const USERS_PER_TENANT = 5;
const SAMPLE_EVERY = 10 * SECOND;

/** Entra ID hands out tokens of 60 to 90 minutes; each tenant gets its own lifetime. */
function lifetimeOf(tenant: number): number {
  return 60 * MINUTE + ((tenant * 7) % 31) * MINUTE + tenant * 17 * SECOND;
}

interface DayFigures {
  refreshCalls: number;
  /** Σ over identities of the refreshes a keeper needs that refreshes each token exactly once, at its window. */
  onePerLifetime: number;
  busiestSecond: number;
  /** 10-second samples in which some identity's token had expired. */
  expiredSamples: number;
  /** Tokens refreshed twice, i.e. a refresh started while the token from the previous one was still new. */
  doubleRefreshes: number;
}

async function simulateDay(options: Partial<KeeperOptions>): Promise<DayFigures> {
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
  let expiredSamples = 0;
  for (let elapsed = 0; elapsed < DAY; elapsed += SAMPLE_EVERY) {
    await h.clock.advance(SAMPLE_EVERY);
    if ([...expiry.values()].some((expiresOn) => expiresOn <= h.clock.now())) expiredSamples++;
  }
  h.keeper.dispose();
  const perSecond = new Map<number, number>();
  for (const call of h.calls) perSecond.set(Math.floor(call.at / SECOND), (perSecond.get(Math.floor(call.at / SECOND)) ?? 0) + 1);
  let doubleRefreshes = 0;
  for (const [id, tenant] of tenantOf) {
    const times = h.calls.filter((call) => call.id === id).map((call) => call.at);
    for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! < lifetimeOf(tenant) / 2) doubleRefreshes++;
  }
  return { refreshCalls: h.calls.length, onePerLifetime, busiestSecond: Math.max(0, ...perSecond.values()), expiredSamples, doubleRefreshes };
}

export async function runRefreshDay(): Promise<BenchResult> {
  const ours = await simulateDay({});
  const herd = await simulateDay({ spreadMs: 0, minSpacingMs: 0 });
  check(ours.refreshCalls > 0 && herd.refreshCalls > 0, 'the simulated day made no refresh calls');
  const label = `Refresh, ${TENANTS * USERS_PER_TENANT} identities / ${TENANTS} tenants, simulated day`;
  const rows: Row[] = [
    {
      benchmark: label,
      measure: `refresh calls (one per lifetime = ${ours.onePerLifetime})`,
      ours: `${ours.refreshCalls} (${ours.doubleRefreshes} doubled)`,
      peer: `no spread: ${herd.refreshCalls}`,
      ratio: ours.refreshCalls / ours.onePerLifetime,
      goal: 'one per token lifetime per identity',
      met: ours.doubleRefreshes === 0 && ours.refreshCalls <= ours.onePerLifetime + TENANTS * USERS_PER_TENANT,
    },
    {
      benchmark: label,
      measure: 'most refresh starts in one second',
      ours: String(ours.busiestSecond),
      peer: `no spread: ${herd.busiestSecond}`,
      goal: '≤ 1 (no herd)',
      met: ours.busiestSecond <= 1,
    },
    {
      benchmark: label,
      measure: `10 s samples with an expired token (of ${DAY / SAMPLE_EVERY})`,
      ours: String(ours.expiredSamples),
      peer: `no spread: ${herd.expiredSamples}`,
      goal: '0',
      met: ours.expiredSamples === 0,
    },
  ];
  return { rows, data: { ours, withoutSpread: herd } };
}
