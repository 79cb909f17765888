// What every benchmark shares: medians, timed child processes with their peak memory, and the shape of a
// result row, so the runner can print one table with each goal beside its figure.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { repoRoot } from '../test/support/repo-root';

export { repoRoot };

/** One line of the results table. `met` is undefined when there is no goal or nothing was measured. */
export interface Row {
  benchmark: string;
  measure: string;
  ours: string;
  peer?: string;
  /** ours / peer, for times: below 1 means we are faster. */
  ratio?: number;
  goal: string;
  met?: boolean;
}

export interface BenchResult {
  rows: Row[];
  /** Raw figures for latest.json, so a later run can be compared number by number. */
  data: Record<string, unknown>;
  notes?: string[];
}

export function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number.parseInt(value, 10);
  if (!Number.isFinite(parsed) || parsed < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return parsed;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

export function mib(kilobytes: number | undefined): string {
  return kilobytes === undefined || !Number.isFinite(kilobytes) ? 'n/a' : `${(kilobytes / 1024).toFixed(0)} MiB`;
}

export function bytes(count: number): string {
  if (count >= 1024 * 1024) return `${(count / 1024 / 1024).toFixed(2)} MB`;
  if (count >= 1024) return `${(count / 1024).toFixed(1)} KB`;
  return `${count} B`;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}


const GNU_TIME = '/usr/bin/time';

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident memory of the process in KiB, from GNU time; undefined without it. */
  maxRssKb?: number;
}

/**
 * Runs a program to completion and measures it from outside, the way a user's shell would experience it.
 * Under GNU time the wall clock includes time's own fork and exec, the same few hundred microseconds for
 * every program compared.
 */
export function runProcess(program: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<ProcessRun> {
  const measured = existsSync(GNU_TIME);
  const [file, argv] = measured ? [GNU_TIME, ['-f', '__maxrss_kb=%M', program, ...args]] : [program, args];
  const started = nowMs();
  return new Promise((resolve) => {
    execFile(file, argv, { env: options.env, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const wallMs = nowMs() - started;
      const failure = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null;
      let text = String(stderr);
      let maxRssKb: number | undefined;
      const match = /__maxrss_kb=(\d+)\s*$/.exec(text);
      if (match) {
        maxRssKb = Number(match[1]);
        text = text.slice(0, match.index);
      }
      resolve({ code, stdout: String(stdout), stderr: text.replace(/^Command exited with non-zero status \d+\n?/m, ''), wallMs, maxRssKb });
    });
  });
}

/** Rotates the order of the variants each repetition, so no variant always runs first on a warm cache. */
export function interleaved<T>(variants: T[], repetition: number): T[] {
  const shift = repetition % variants.length;
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}

export class BenchFailure extends Error {}

/** A benchmark only fails when the thing measured did the wrong thing; a slow figure is reported, never thrown. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new BenchFailure(message);
}
