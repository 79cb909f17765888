// Differential fuzz of every kubeconfig writer, with oracles that do not use the patcher: for each
// generated kubeconfig the result is either a refusal (the file byte for byte as it was) or an output
// that (a) `yaml` reads as the original data except the target, (b) real kubectl 1.33 reads the same as
// the original except the target, and (c) sign-out turns back into the original bytes.
//
// The local verification (the one big files get) is checked on its own against the oracle on every
// case, since on small files the engine would also run the full one and hide a mistake in it.
//
// FUZZ_SEED replays a run (it is printed); FUZZ_CASES sets the number of cases (default 10,000);
// FUZZ_KUBECTL_CASES how many outputs kubectl reads (default 500); FUZZ_SOAK=1 runs ten times as many.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { KubeconfigError, clearCredentials, mergeKubeconfig, patchClear, patchCredentials, patchCurrentContext, planKubeconfigMerge, setCurrentContext, writeCredentials, type Credentials } from '../../src/core/kubeconfig';
import { azSkeleton } from '../support/kubeconfig-fixtures';
import { kubectlOrSkip, runKubectl } from '../support/kubectl';
import { REGRESSIONS, type FuzzOperation } from './differential-regressions';
import { Random, generateKubeconfig } from './kubeconfig-generator';

const soak = process.env.FUZZ_SOAK === '1' ? 10 : 1;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Date.now() % 2_000_000_000));
const CASES = Number(process.env.FUZZ_CASES ?? 10_000) * soak;
const KUBECTL_CASES = Number(process.env.FUZZ_KUBECTL_CASES ?? 500) * soak;
const FILE_EVERY = 40;
// A few more than needed: kubectl itself refuses some inputs (a name of `yes` is a boolean to it).
const SAMPLED = Math.ceil(KUBECTL_CASES * 1.12);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The oracle's reading of a kubeconfig: yaml's, with merge keys and repeated keys as client-go has them. */
const readCache = new Map<string, { data: Json } | { error: string }>();

function read(text: string): { data: Json } | { error: string } {
  const cached = readCache.get(text);
  if (cached !== undefined) return cached;
  if (readCache.size > 64) readCache.clear();
  const result = readUncached(text);
  readCache.set(text, result);
  return result;
}

function readUncached(text: string): { data: Json } | { error: string } {
  const document = parseDocument(text, { merge: true, uniqueKeys: false });
  if (document.errors.length > 0) return { error: document.errors[0]!.message };
  try {
    const data: unknown = document.toJS({ maxAliasCount: 1000 });
    return { data: isObject(data) ? data : {} };
  } catch (error) {
    return { error: String(error) };
  }
}

function equal(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

const TOKEN_KEYS = ['access-token', 'refresh-token', 'expires-in', 'expires-on'];

function withoutTokens(body: Json): Json {
  const copy: Json = { ...body };
  delete copy['token'];
  const provider = copy['auth-provider'];
  if (isObject(provider) && isObject(provider['config'])) {
    const config = { ...provider['config'] };
    for (const key of TOKEN_KEYS) delete config[key];
    copy['auth-provider'] = { ...provider, config };
  }
  return copy;
}

function userIndex(data: Json, name: string): number {
  const users = data['users'];
  return Array.isArray(users) ? users.findIndex((entry) => isObject(entry) && entry['name'] === name) : -1;
}

function blankUser(data: Json, index: number): Json {
  const users = [...(data['users'] as unknown[])];
  users[index] = { ...(users[index] as Json), user: '(target)' };
  return { ...data, users };
}

/** (a) for a credential write: a problem, or undefined when `output` is `input` plus exactly the credentials. */
function credentialProblem(input: string, output: string, user: string, credentials: Credentials): string | undefined {
  const before = read(input);
  const afterRead = read(output);
  if ('error' in afterRead) return `the output does not parse: ${afterRead.error}`;
  if ('error' in before) return 'an input that does not parse was written';
  const index = userIndex(before.data, user);
  if (index < 0) return 'a missing user was written';
  if (userIndex(afterRead.data, user) !== index) return 'the user moved';
  if (!equal(blankUser(afterRead.data, index), blankUser(before.data, index))) return 'something outside the user changed';
  const old = (before.data['users'] as Json[])[index]!['user'] as Json;
  const body = (afterRead.data['users'] as Json[])[index]!['user'];
  if (!isObject(body)) return 'the user body is gone';
  if (body['exec'] !== undefined) return 'the exec block is still there';
  if (credentials.format === 'token') {
    if (body['token'] !== credentials.accessToken || body['auth-provider'] !== undefined) return 'the token is not the one written';
  } else {
    const provider = body['auth-provider'];
    const config = isObject(provider) && isObject(provider['config']) ? provider['config'] : undefined;
    if (config?.['access-token'] !== credentials.accessToken || config['refresh-token'] !== (credentials.refreshToken ?? '') || body['token'] !== undefined) return 'the legacy form does not hold the token';
    if (Object.values(config).some((value) => typeof value !== 'string') || Object.keys(config).length !== 9) return 'the legacy config is not nine strings';
  }
  for (const key of Object.keys(old)) {
    if (['token', 'auth-provider', 'exec', 'extensions'].includes(key)) continue;
    if (!equal(body[key], old[key])) return `the key ${key} of the user changed`;
  }
  const extensions = body['extensions'];
  if (!Array.isArray(extensions)) return 'no extensions list';
  const ours = extensions.filter((entry) => isObject(entry) && entry['name'] === 'aks-signin');
  if (ours.length !== 1) return 'not exactly one extension of ours';
  const skeleton = (ours[0] as { extension?: { skeleton?: unknown } }).extension?.skeleton;
  if (typeof skeleton !== 'string') return 'our extension holds no skeleton';
  const previous = Array.isArray(old['extensions']) ? (old['extensions'] as unknown[]).find((entry) => isObject(entry) && entry['name'] === 'aks-signin') : undefined;
  if (previous === undefined) {
    const kept = read(skeleton);
    if ('error' in kept || !equal(kept.data, withoutTokens(old))) return 'the kept skeleton does not restore the user';
  }
  return undefined;
}

function contextProblem(input: string, output: string, name: string): string | undefined {
  const before = read(input);
  // Nothing written: only right when the file already points there.
  if (output === input) return 'error' in before || before.data['current-context'] === name ? undefined : 'nothing was written';
  const afterRead = read(output);
  if ('error' in afterRead) return `the output does not parse: ${afterRead.error}`;
  if ('error' in before) return 'an input that does not parse was written';
  if (!equal(afterRead.data, { ...before.data, 'current-context': name })) return 'the output is not the input with the new current-context';
  return undefined;
}

function credentialsFor(random: Random, format: 'token' | 'legacy'): Credentials {
  const payload = Buffer.from(JSON.stringify({ exp: 1_900_000_000, tid: random.pick(['t1', 't2']), n: random.int(1e6) })).toString('base64url');
  const accessToken = random.chance(0.9) ? `eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln${'x'.repeat(random.int(40))}` : random.pick(['tok"en', "it's: a # token", 'ünï\tcode', '- dash', '&anchor *alias', 'line\nbreak']);
  return { format, accessToken, refreshToken: random.chance(0.5) ? `0.A${random.int(1e9)}` : undefined, expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 };
}

function operationFor(random: Random, generated: ReturnType<typeof generateKubeconfig>): FuzzOperation {
  if (random.chance(0.05)) return { kind: 'merge', cluster: random.pick(['aks-0', 'aks-1', 'from-azure']), resolution: random.chance(0.5) ? 'replace' : 'keepBoth' };
  if (random.chance(0.22)) {
    const name = random.chance(0.7) ? random.pick(generated.contexts) : random.pick(['new-context', 'yes', 'with space', 'odd: name', '0123', 'ü']);
    return { kind: 'context', name };
  }
  const aks = generated.users.filter((user) => user.kind === 'exec-kubelogin' || user.kind === 'auth-provider');
  const user = aks.length > 0 && random.chance(0.93) ? random.pick(aks).name : random.chance(0.5) ? random.pick(generated.users).name : 'nobody';
  return { kind: 'credentials', user, format: random.chance(0.7) ? 'token' : 'legacy', then: random.chance(0.25) ? (random.chance(0.5) ? 'token' : 'legacy') : undefined };
}

/**
 * The local verification where it can be made, else the full one: what a big file gets. The oracle
 * checks the result either way, and cheaply, which is what lets the fuzz run ten thousand cases.
 */
function localThenFull(run: (verification: 'local' | 'full') => string): Outcome {
  const local = attempt(() => run('local'));
  if (local.error === undefined || !/local proof could not be made/.test(local.error.message)) return local;
  return attempt(() => run('full'));
}

interface Outcome {
  text?: string;
  error?: KubeconfigError;
}

function attempt(run: () => string): Outcome {
  try {
    return { text: run() };
  } catch (error) {
    if (error instanceof KubeconfigError) return { error };
    throw error;
  }
}

/** A refusal that is the patcher's failure, not the file's: its own output did not verify, or it gave up on a layout. */
function patcherGaveUp(error: KubeconfigError): boolean {
  return error.kind === 'unverifiable' && /checking the result before replacing the file found|cannot edit line by line|not a plain value/.test(error.message);
}

/**
 * The local verdict against the full one. The local proof looks at the edited piece only, so it does not
 * refuse a file for what is wrong elsewhere in it (the full parse does): that is counted, not failed. A
 * local acceptance of something the verification itself refuses would be a hole in the proof.
 */
function compareLocal(local: Outcome, full: Outcome, stats: Stats | undefined): string | undefined {
  if (full.text !== undefined) return full.text === local.text ? undefined : 'local and full outputs differ';
  if (full.error?.kind === 'unverifiable') return `local accepted what the full check refused: ${full.error.message}`;
  if (stats) stats.localWroteWhereFullRefused[full.error!.kind] = (stats.localWroteWhereFullRefused[full.error!.kind] ?? 0) + 1;
  return undefined;
}

function noteLocal(stats: Stats | undefined, local: Outcome): void {
  if (stats === undefined) return;
  if (local.text !== undefined) {
    stats.localProved++;
    return;
  }
  stats.localRefused++;
  const reason = /local proof could not be made: ([^(.]*)/.exec(local.error?.message ?? '')?.[1]?.trim() ?? local.error?.kind ?? 'unknown';
  stats.localReasons[reason] = (stats.localReasons[reason] ?? 0) + 1;
}

interface Stats {
  merged: number;
  localReasons: Record<string, number>;
  localWroteWhereFullRefused: Record<string, number>;
  cases: number;
  written: number;
  localProved: number;
  localRefused: number;
  refusedByKind: Record<string, number>;
  restoredBytes: number;
  throughFiles: number;
  features: Record<string, number>;
}

interface KubectlSample {
  input: string;
  output: string;
  target: FuzzOperation;
  credentials?: Credentials;
  incoming?: string;
}

/**
 * Runs one case; returns a problem (for shrinking) or undefined. Fills stats and the kubectl sample.
 * With `crossCheck`, the full verification runs beside the local one even where the local one decided.
 */
function runCase(text: string, operation: Exclude<FuzzOperation, { kind: 'merge' }>, random: Random, stats: Stats | undefined, sample?: (found: KubectlSample) => void, crossCheck = true): string | undefined {
  if (operation.kind === 'context') {
    const local = attempt(() => patchCurrentContext(text, 'fuzz.yaml', operation.name, { verification: 'local' }));
    const parses = !('error' in read(text));
    // What the engine does with a file this small: the full check as well (skipped where the local one
    // decided on a readable file and this case is not a cross-check: there the two agree, as the
    // cross-checked cases show).
    const auto = crossCheck || local.text === undefined || !parses ? attempt(() => patchCurrentContext(text, 'fuzz.yaml', operation.name, { verification: 'full' })) : local;
    noteLocal(stats, local);
    if (local.text !== undefined && parses) {
      const problem = contextProblem(text, local.text, operation.name);
      if (problem !== undefined) return `local verification accepted a wrong current-context write: ${problem}`;
      const disagreement = compareLocal(local, auto, stats);
      if (disagreement !== undefined) return disagreement;
    }
    if (auto.text !== undefined) {
      const problem = contextProblem(text, auto.text, operation.name);
      if (problem !== undefined) return `current-context: ${problem}`;
      if (stats) stats.written++;
      sample?.({ input: text, output: auto.text, target: operation });
    } else {
      if (stats) stats.refusedByKind[auto.error!.kind] = (stats.refusedByKind[auto.error!.kind] ?? 0) + 1;
      if (parses && patcherGaveUp(auto.error!)) return `a readable file was refused because the patcher could not handle it: ${auto.error!.message}`;
    }
    return undefined;
  }
  const first = credentialsFor(random, operation.format);
  const local = attempt(() => patchCredentials(text, 'fuzz.yaml', operation.user, first, { verification: 'local' }));
  const parsesBefore = !('error' in read(text));
  const auto = crossCheck || local.text === undefined || !parsesBefore ? attempt(() => patchCredentials(text, 'fuzz.yaml', operation.user, first, { verification: 'full' })) : local;
  noteLocal(stats, local);
  if (local.text !== undefined && parsesBefore) {
    const problem = credentialProblem(text, local.text, operation.user, first);
    if (problem !== undefined) return `local verification accepted a wrong write: ${problem}`;
    const disagreement = compareLocal(local, auto, stats);
    if (disagreement !== undefined) return disagreement;
  }
  if (auto.error !== undefined) {
    if (stats) stats.refusedByKind[auto.error.kind] = (stats.refusedByKind[auto.error.kind] ?? 0) + 1;
    if (process.env.FUZZ_LOG_REFUSALS) appendFileSync(process.env.FUZZ_LOG_REFUSALS, JSON.stringify({ kind: auto.error.kind, message: auto.error.message, operation, text }) + '\n');
    if (auto.error.message.includes(first.accessToken)) return 'a refusal message carries the token';
    if (parsesBefore && patcherGaveUp(auto.error)) return `a readable file was refused because the patcher could not handle it: ${auto.error.message}`;
    return undefined;
  }
  const written = auto.text!;
  const problem = credentialProblem(text, written, operation.user, first);
  if (problem !== undefined) return problem;
  if (stats) stats.written++;
  sample?.({ input: text, output: written, target: operation, credentials: first });

  let latest = written;
  if (operation.then !== undefined) {
    const second = credentialsFor(random, operation.then);
    const again = localThenFull((verification) => patchCredentials(written, 'fuzz.yaml', operation.user, second, { verification }));
    if (again.error !== undefined) return `a second write over our own was refused: ${again.error.message}`;
    const secondProblem = credentialProblem(written, again.text!, operation.user, second);
    if (secondProblem !== undefined) return `second write: ${secondProblem}`;
    latest = again.text!;
  }
  // (c) sign-out: back to the original bytes when the entry was a pristine skeleton, else its skeleton.
  const cleared = localThenFull((verification) => patchClear(latest, 'fuzz.yaml', operation.user, { verification }));
  if (cleared.error !== undefined) return `sign-out was refused: ${cleared.error.message}`;
  const before = read(text) as { data: Json };
  const index = userIndex(before.data, operation.user);
  const old = (before.data['users'] as Json[])[index]!['user'] as Json;
  const pristine = !equal(withoutTokens(old), old) || (Array.isArray(old['extensions']) && (old['extensions'] as unknown[]).some((entry) => isObject(entry) && entry['name'] === 'aks-signin')) ? false : true;
  if (pristine) {
    if (cleared.text !== text) return 'sign-out did not restore the original bytes';
    if (stats) stats.restoredBytes++;
  } else {
    const after = read(cleared.text!);
    if ('error' in after || !equal(after.data, { ...before.data, users: (before.data['users'] as Json[]).map((entry, i) => (i === index ? { ...entry, user: withoutTokens(old) } : entry)) })) return 'sign-out did not leave the skeleton';
  }
  return undefined;
}

/** What Azure would hand out for `cluster`: az's layout, names that may already be in the file. */
function incomingFor(cluster: string): string {
  return azSkeleton({ server: `https://${cluster}.hcp.westeurope.azmk8s.io:443`, format: 'exec-kubelogin', clusterName: cluster, resourceGroup: 'rg-test' });
}

const LISTS = ['clusters', 'contexts', 'users'] as const;

/** A name, or the name with a -N suffix a kept-both entry gets. */
function sameBase(name: unknown, base: unknown): boolean {
  return typeof name === 'string' && typeof base === 'string' && (name === base || new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`).test(name));
}

/** The incoming entry, as it may appear after a merge: its name and a context's references possibly suffixed. */
function mergedMatch(entry: Json, incoming: Json): boolean {
  if (!sameBase(entry['name'], incoming['name'])) return false;
  const strip = (value: Json): Json => {
    const { name: _name, ...rest } = value;
    void _name;
    if (isObject(rest['context'])) {
      const context = { ...rest['context'] };
      for (const key of ['cluster', 'user']) if (typeof context[key] === 'string') context[key] = '(ref)';
      rest['context'] = context;
    }
    return rest;
  };
  if (!equal(strip(entry), strip(incoming))) return false;
  if (isObject(entry['context']) && isObject(incoming['context'])) {
    for (const key of ['cluster', 'user']) if (!sameBase(entry['context'][key], incoming['context'][key])) return false;
  }
  return true;
}

/** (a) for a merge: everything that was there is there in place (or replaced by its incoming namesake), plus the incoming entries. */
function mergeProblem(input: string, output: string, incomingText: string, resolution: 'replace' | 'keepBoth'): string | undefined {
  const before = read(input);
  const after = read(output);
  const incoming = read(incomingText) as { data: Json };
  if ('error' in after) return `the merged file does not parse: ${after.error}`;
  if ('error' in before) return 'a file that does not parse was merged into';
  const keys = new Set([...Object.keys(before.data), ...Object.keys(after.data)]);
  for (const key of keys) {
    if ((LISTS as readonly string[]).includes(key)) continue;
    if (key === 'apiVersion' || key === 'kind' || key === 'preferences' || key === 'current-context') {
      if (Object.keys(before.data).length === 0) continue; // an empty file gets the keys of a new one
    }
    if (!equal(after.data[key], before.data[key])) return `the top-level key ${key} changed`;
  }
  for (const list of LISTS) {
    const was = Array.isArray(before.data[list]) ? (before.data[list] as Json[]) : [];
    const now = Array.isArray(after.data[list]) ? (after.data[list] as Json[]) : [];
    const theirs = (incoming.data[list] as Json[] | undefined) ?? [];
    if (now.length < was.length) return `${list} lost entries`;
    for (let i = 0; i < was.length; i++) {
      if (equal(now[i], was[i])) continue;
      const namesake = theirs.find((entry) => entry['name'] === was[i]!['name']);
      if (resolution !== 'replace' || namesake === undefined || !equal(now[i], namesake)) return `${list}[${i}] changed without being replaced by its namesake`;
    }
    for (const extra of now.slice(was.length)) if (!theirs.some((entry) => mergedMatch(extra, entry))) return `${list} gained an entry that is not an incoming one`;
    for (const entry of theirs) if (!now.some((candidate) => mergedMatch(candidate, entry))) return `the incoming ${list} entry ${String(entry['name'])} is missing`;
  }
  return undefined;
}

async function runMergeCase(text: string, operation: Extract<FuzzOperation, { kind: 'merge' }>, stats: Stats | undefined, sample?: (found: KubectlSample) => void): Promise<string | undefined> {
  const file = join(dir, 'merge-config');
  writeFileSync(file, text, { mode: 0o600 });
  const bytes = readFileSync(file);
  const incoming = incomingFor(operation.cluster);
  try {
    const plan = await planKubeconfigMerge(file, incoming);
    const resolutions = Object.fromEntries(plan.conflicts.map((key) => [key, operation.resolution]));
    await mergeKubeconfig(file, incoming, resolutions, { lockTimeoutMs: 100 });
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    if (!readFileSync(file).equals(bytes)) return `a refused merge (${error.message}) changed the file`;
    if (stats) stats.refusedByKind[error.kind] = (stats.refusedByKind[error.kind] ?? 0) + 1;
    if (!('error' in read(text)) && patcherGaveUp(error)) return `a readable file was refused because the merge could not handle it: ${error.message}`;
    return undefined;
  }
  const output = readFileSync(file, 'utf8');
  const problem = mergeProblem(text, output, incoming, operation.resolution);
  if (problem !== undefined) return `merge: ${problem}`;
  if (stats) {
    stats.written++;
    stats.merged++;
  }
  sample?.({ input: text, output, target: operation, incoming });
  return undefined;
}

/** Removes lines from a failing input while the failure stays, so the kept regression case is small. */
async function shrink(text: string, fails: (candidate: string) => boolean | Promise<boolean>): Promise<string> {
  let lines = text.split(/(?<=\n)/);
  let chunk = Math.max(1, Math.floor(lines.length / 2));
  while (chunk >= 1) {
    let removed = false;
    for (let start = 0; start < lines.length; start += chunk) {
      const candidate = [...lines.slice(0, start), ...lines.slice(start + chunk)];
      if (candidate.length < lines.length && (await fails(candidate.join('')))) {
        lines = candidate;
        removed = true;
        start -= chunk;
      }
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return lines.join('');
}

function caseSeed(index: number): number {
  return (Math.imul(SEED ^ 0x9e3779b9, 2654435761) + Math.imul(index, 40503)) >>> 0;
}

let dir: string;
const samples: KubectlSample[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'aks-signin-differential-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface KubectlTally {
  compared: number;
  inputRefused: number;
  failures: string[];
}

/**
 * kubectl comparisons, run while the fuzz goes on (kubectl on one core, the fuzz on the other), then
 * two at a time for whatever is left.
 */
class KubectlQueue {
  readonly tally: KubectlTally = { compared: 0, inputRefused: 0, failures: [] };
  private readonly waiting: KubectlSample[] = [];
  private running = 0;
  private limit = 1;
  private idle: Array<() => void> = [];
  constructor(private readonly binary: string | undefined) {}

  push(sample: KubectlSample): void {
    if (this.binary === undefined) return;
    this.waiting.push(sample);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.limit && this.waiting.length > 0) {
      const sample = this.waiting.shift()!;
      this.running++;
      void compareWithKubectl(this.binary!, sample, samples.indexOf(sample), this.tally).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  /** Waits for every comparison, two at a time now that nothing else runs. */
  drain(): Promise<KubectlTally> {
    this.limit = 2;
    this.pump();
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve(this.tally);
    return new Promise((resolve) => this.idle.push(() => resolve(this.tally)));
  }
}

let kubectlQueue: KubectlQueue | undefined;

/** One case of any kind. */
function anyCase(text: string, operation: FuzzOperation, random: Random, stats: Stats | undefined, sample?: (found: KubectlSample) => void, crossCheck = true): Promise<string | undefined> {
  return operation.kind === 'merge' ? runMergeCase(text, operation, stats, sample) : Promise.resolve(runCase(text, operation, random, stats, sample, crossCheck));
}

test('differential fuzz: kept regression cases', async () => {
  for (const [index, regression] of REGRESSIONS.entries()) {
    const problem = await anyCase(regression.text, regression.operation, new Random(regression.seed ?? index), undefined);
    assert.equal(problem, undefined, `regression ${index} (${regression.why}): ${problem}`);
  }
});

test(`differential fuzz: ${CASES} generated kubeconfigs through every writer, checked by yaml; sign-out restores the bytes`, async (t) => {
  t.diagnostic(`seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
  const stats: Stats = { merged: 0, localReasons: {}, localWroteWhereFullRefused: {}, cases: 0, written: 0, localProved: 0, localRefused: 0, refusedByKind: {}, restoredBytes: 0, throughFiles: 0, features: {} };
  let seen = 0;
  // About 70% of the cases are written; sample so that SAMPLED of them spread over the whole run.
  const sampleEvery = Math.max(1, Math.floor((CASES * 0.6) / SAMPLED));
  kubectlQueue = new KubectlQueue(kubectlBinaryOrUndefined(t));
  const started = Date.now();
  const only = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
  for (let index = only ?? 0; index < (only !== undefined ? only + 1 : CASES); index++) {
    const seed = caseSeed(index);
    const random = new Random(seed);
    const generated = generateKubeconfig(random, { wild: random.chance(0.85) });
    for (const feature of generated.features) stats.features[feature] = (stats.features[feature] ?? 0) + 1;
    const operation = operationFor(random, generated);
    const opSeed = random.int(2 ** 31);
    stats.cases++;
    const problem = await anyCase(generated.text, operation, new Random(opSeed), stats, (found) => {
      // Every few written cases, spread over the run.
      if (seen++ % sampleEvery === 0 && samples.length < SAMPLED) {
        samples.push(found);
        kubectlQueue?.push(found);
      }
    }, index % 4 === 0);
    // Let kubectl's processes report back now and then.
    if (only !== undefined) t.diagnostic(JSON.stringify({ operation, text: generated.text }));
    if (index % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (problem !== undefined) {
      // Shrunk while it fails the same way (the words before the first colon), not just any way.
      const sameWay = (other: string | undefined) => other !== undefined && other.split(':')[0] === problem.split(':')[0];
      const small = await shrink(generated.text, async (candidate) => sameWay(await anyCase(candidate, operation, new Random(opSeed), undefined)));
      assert.fail(
        `case ${index} (FUZZ_SEED=${SEED}): ${problem}\nkeep as a regression: ${JSON.stringify({ why: problem, seed: opSeed, operation, text: small })}\nshrunk from: ${JSON.stringify(generated.text)}`,
      );
    }
    // Some cases go through real files: the same outcome, and a refusal leaves every byte.
    if (index % FILE_EVERY === 0 && operation.kind !== 'merge') {
      stats.throughFiles++;
      await throughFile(generated.text, operation, new Random(opSeed));
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  t.diagnostic(`${stats.cases} cases in ${elapsed.toFixed(1)} s: ${stats.written} written (${stats.merged} merges), refused ${JSON.stringify(stats.refusedByKind)}; local proof made ${stats.localProved}, not ${stats.localRefused}; ${stats.restoredBytes} sign-outs back to the exact bytes; ${stats.throughFiles} through real files`);
  t.diagnostic(`features: ${JSON.stringify(stats.features)}`);
  t.diagnostic(`where the local proof was not made: ${JSON.stringify(stats.localReasons)}`);
  t.diagnostic(`written by the local proof where the full parse refused the file for what is elsewhere in it: ${JSON.stringify(stats.localWroteWhereFullRefused)}`);
  // A fuzz that refuses everything proves nothing: most cases must be written, many of them proved locally.
  if (only !== undefined || CASES < 200) return;
  assert.ok(stats.written > stats.cases * 0.5, `only ${stats.written} of ${stats.cases} cases were written`);
  assert.ok(stats.localProved > stats.cases * 0.3, `the local proof was made in only ${stats.localProved} of ${stats.cases} cases`);
  assert.ok(stats.restoredBytes > stats.cases * 0.2, `only ${stats.restoredBytes} sign-outs were checked byte for byte`);
});

async function throughFile(text: string, operation: Exclude<FuzzOperation, { kind: 'merge' }>, random: Random): Promise<void> {
  const file = join(dir, 'config');
  writeFileSync(file, text, { mode: 0o600 });
  const bytes = readFileSync(file);
  try {
    if (operation.kind === 'context') {
      const expected = attempt(() => patchCurrentContext(text, file, operation.name));
      await setCurrentContext(file, operation.name, { lockTimeoutMs: 100 });
      assert.equal(readFileSync(file, 'utf8'), expected.text ?? text);
    } else {
      const credentials = credentialsFor(random, operation.format);
      const expected = attempt(() => patchCredentials(text, file, operation.user, credentials));
      await writeCredentials(file, operation.user, credentials, { lockTimeoutMs: 100 });
      assert.equal(readFileSync(file, 'utf8'), expected.text);
      await clearCredentials(file, operation.user, { lockTimeoutMs: 100 });
    }
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    assert.ok(readFileSync(file).equals(bytes), `a refused write (${error.message}) left every byte`);
  }
}

type KubectlView = { ok: true; config: Json } | { ok: false; error: string };

async function kubectlView(binary: string, text: string, name: string): Promise<KubectlView> {
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o600 });
  const result = await runKubectl(binary, ['config', 'view', '--raw', '-o', 'json'], { kubeconfig: file });
  if (result.code !== 0) return { ok: false, error: result.stderr.trim() };
  return { ok: true, config: JSON.parse(result.stdout) as Json };
}

function kubectlTargetless(config: Json, target: FuzzOperation, incoming?: Json): Json {
  if (target.kind === 'context') return { ...config, 'current-context': '(target)' };
  if (target.kind === 'merge') {
    // Leave out every entry named like an incoming one: those are what the merge may add or replace.
    const next: Json = { ...config };
    for (const list of LISTS) {
      const theirs = ((incoming?.[list] as Json[] | null) ?? []).map((entry) => entry['name']);
      next[list] = ((config[list] as Json[] | null) ?? []).filter((entry) => !theirs.some((name) => sameBase(entry['name'], name)));
    }
    return next;
  }
  const users = (config['users'] as Json[] | null) ?? [];
  return { ...config, users: users.map((entry) => (entry['name'] === target.user ? { ...entry, user: '(target)' } : entry)) };
}

function kubectlBinaryOrUndefined(t: TestContext): string | undefined {
  return kubectlOrSkip(t, '1.33');
}

async function compareWithKubectl(binary: string, sample: KubectlSample, index: number, tally: KubectlTally): Promise<void> {
  const before = await kubectlView(binary, sample.input, `in-${index}`);
  const after = await kubectlView(binary, sample.output, `out-${index}`);
  if (!before.ok) {
    tally.inputRefused++;
    return;
  }
  const where = `sample ${index}: ${JSON.stringify({ target: sample.target, input: sample.input })}`;
  try {
    assert.ok(after.ok, `kubectl read the input but not our output (${after.ok ? '' : after.error}); ${where}`);
    const incoming = sample.incoming === undefined ? undefined : await kubectlView(binary, sample.incoming, `incoming-${index}`);
    const theirs = incoming?.ok ? incoming.config : undefined;
    assert.deepEqual(kubectlTargetless(after.config, sample.target, theirs), kubectlTargetless(before.config, sample.target, theirs), `kubectl sees a change outside the target; ${where}`);
    if (sample.target.kind === 'context') assert.equal(after.config['current-context'], sample.target.name, where);
    else if (sample.target.kind === 'merge') {
      for (const list of LISTS) {
        for (const entry of (theirs?.[list] as Json[] | null) ?? []) {
          assert.ok(((after.config[list] as Json[] | null) ?? []).some((candidate) => mergedMatch(candidate, entry)), `kubectl does not see the merged ${list} entry ${String(entry['name'])}; ${where}`);
        }
      }
    }
    else {
      const target = sample.target;
      const entry = ((after.config['users'] as Json[] | null) ?? []).find((user) => user['name'] === target.user);
      const body = entry?.['user'] as Json | undefined;
      const held = sample.credentials?.format === 'token' ? body?.['token'] : ((body?.['auth-provider'] as Json | undefined)?.['config'] as Json | undefined)?.['access-token'];
      assert.equal(held, sample.credentials?.accessToken, `kubectl does not see the token we wrote; ${where}`);
    }
    tally.compared++;
  } catch (error) {
    tally.failures.push(error instanceof Error ? error.message : String(error));
  }
}

test('differential fuzz: real kubectl 1.33 reads every sampled output the same as its input, except the target', async (t) => {
  if (kubectlOrSkip(t, '1.33') === undefined) return;
  assert.ok(kubectlQueue !== undefined, 'the fuzz ran first');
  const started = Date.now();
  const tally = await kubectlQueue.drain();
  t.diagnostic(`${tally.compared} outputs compared through kubectl 1.33 (${tally.inputRefused} inputs kubectl itself refused); ${((Date.now() - started) / 1000).toFixed(1)} s after the fuzz ended`);
  assert.deepEqual(tally.failures, []);
  assert.ok(tally.compared >= Math.min(KUBECTL_CASES, samples.length - tally.inputRefused), `only ${tally.compared} comparisons of ${samples.length} samples`);
});
