// Benchmark 4: fifty identities in ten tenants kept current over a simulated day on the fake clock, the
// keeper as the extension configures it beside the same keeper without spread or spacing (every identity
// of a tenant then refreshes at the same moment: the herd the spread exists to break up).
import { DAY, SAMPLE_EVERY, TENANTS, USERS_PER_TENANT, simulateDay } from '../test/unit/keeper/simulated-day';
import { BenchResult, check, Row } from './lib';

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
  const figures = ({ h: _h, tenantOf: _t, ...rest }: Awaited<ReturnType<typeof simulateDay>>) => rest;
  return { rows, data: { ours: figures(ours), withoutSpread: figures(herd) } };
}
