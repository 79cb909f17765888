// Verify before replace: every patched text is parsed and compared with the original as data before it
// may replace the file. Everything outside the target must be equal, the target must hold exactly what
// was meant, and no alias may dangle; otherwise the write is refused, naming what stood in the way.
//
// Two ways to reach that verdict:
// - full: parse the whole original and the whole patched text and compare. Sound for any file, but a
//   parse of a 5,000-context kubeconfig takes seconds.
// - local: when the scan vouches for the file's layout and the edits stay inside one self-contained
//   piece (one list item, or whole top-level keys), parse that piece before and after, on its own, and
//   compare. The piece starts and ends at lines where the scan proved that nothing spans across (no open
//   quote, flow collection or block scalar, no document marker, tab indentation or complex key); its
//   replacement is scanned too, so it cannot leave anything open that would swallow the next line; an
//   alias in it that points outside makes its own parse fail; and an anchor the edit removes or defines
//   is refused or sent to the full check when the text anywhere mentions its alias. What lies outside
//   the piece is byte for byte the same and is read in the same state, so it means the same.
// Small files get both (the full one is cheap there); the differential fuzz in the fault suite checks the
// local verdict against the full one and against kubectl.
import { isMap, isSeq, type Document } from 'yaml';
import { KubeconfigError } from './errors';
import { dataProblem, deepEqual, documentData, isObject, nodeData, parseYaml, repeatedKey, type Json } from './document';
import { kubeconfigData, type KubeconfigText } from './entries';
import type { UserPlan } from './patch';
import { scanFragment, scanKubeconfig } from './scan';
import { applyEdits, lineNumberAt, type Edit } from './text';

export type VerificationMode = 'auto' | 'local' | 'full';

export interface VerifyOptions {
  /** `auto` (the default): local where it can be proven, and full as well for files up to `fullBelowBytes`. */
  mode?: VerificationMode;
  fullBelowBytes?: number;
}

export interface Verification {
  local: boolean;
  full: boolean;
  /** Why the local proof could not be made, when it could not. */
  localRefused?: string;
}

/** Files up to this size are also verified by a full parse on every write: it costs a few milliseconds there. */
export const FULL_VERIFY_BELOW_BYTES = 64 * 1024;

/** A change to the document that is not one user entry: current-context, merged entries. */
export interface DocumentPlan {
  edits: Edit[];
  /** What the whole document's data must become. */
  expected(old: Json): Json;
  /** For the local proof: the top-level keys' lines [start, end) the edits stay inside. */
  segment?: { start: number; end: number };
  /** For messages: what was being written. */
  what: string;
}

function refusal(file: string, what: string, problem: string): KubeconfigError {
  return new KubeconfigError(
    'unverifiable',
    file,
    `AKS Sign-In did not write ${what} to ${file}: checking the result before replacing the file found that ${problem}. The file was left untouched; please report this with the shape of the file (not its secrets).`,
  );
}

function patchedProblem(document: Document.Parsed, text: string): string | undefined {
  const error = document.errors[0];
  if (error === undefined) return dataProblem(document);
  if (/ALIAS/.test(error.code) || /alias/i.test(error.message)) return `an alias would point at nothing (line ${lineNumberAt(text, error.pos[0])})`;
  return `the result would not be valid YAML (line ${lineNumberAt(text, error.pos[0])}: ${error.code})`;
}

function within(edits: readonly Edit[], start: number, end: number): boolean {
  return edits.every((edit) => edit.start >= start && edit.end <= end);
}

function shift(edits: readonly Edit[], by: number): Edit[] {
  return edits.map((edit) => ({ start: edit.start - by, end: edit.end - by, text: edit.text }));
}

/** Index of the user entry named `name`; -1 when absent. */
function userIndex(data: Json, name: string): number {
  const users = data['users'];
  return Array.isArray(users) ? users.findIndex((entry) => isObject(entry) && entry['name'] === name) : -1;
}

/** The data with one user's `user` value left out, and that value. */
function splitUser(data: Json, index: number): { rest: Json; body: unknown } {
  const users = [...(data['users'] as unknown[])];
  const entry = users[index] as Json;
  const { user, ...others } = entry;
  users[index] = others;
  return { rest: { ...data, users }, body: user };
}

function localUser(model: KubeconfigText, plan: UserPlan): string | undefined {
  const { located } = plan;
  const window = located.window;
  if (window === undefined) return 'the entry was found by a full parse';
  if (plan.newAnchors) return 'the new text defines anchors';
  if (!within(plan.edits, window.start, window.end)) return 'the edits leave the entry';
  const next = applyEdits(located.source, shift(plan.edits, window.start));
  if (window.end < model.text.length && !next.endsWith('\n')) return 'the entry would run into the next line';
  const fragment = scanFragment(next);
  if (!fragment.vouched) return `the new entry is not self-contained (${fragment.reason})`;
  const document = parseYaml(next);
  const problem = patchedProblem(document, next);
  if (problem !== undefined || document.warnings.length > 0) return problem ?? 'the new entry parses with warnings';
  const sequence = document.contents;
  if (!isSeq(sequence) || sequence.items.length !== 1 || !isMap(sequence.items[0])) return 'the new entry is not one list item';
  const item = sequence.items[0];
  if (repeatedKey(item) !== undefined) return 'the new entry repeats a key';
  const oldItem = nodeData(located.item, located.document)?.data;
  const newItem = nodeData(item, document)?.data;
  if (!isObject(oldItem) || !isObject(newItem)) return 'the entries are not mappings';
  const { user: oldBody, ...oldRest } = oldItem;
  const { user: newBody, ...newRest } = newItem;
  void oldBody;
  if (!deepEqual(oldRest, newRest)) throw new Error('the entry changed outside its user body');
  if (!isObject(newBody)) throw new Error('the user body is no longer a mapping');
  const check = plan.check(newBody);
  if (check !== undefined) throw new Error(check);
  return undefined;
}

function fullUser(model: KubeconfigText, plan: UserPlan, patched: string): void {
  const before = model.full().data;
  const document = parseYaml(patched);
  const problem = patchedProblem(document, patched);
  if (problem !== undefined) throw new Error(problem);
  const after = kubeconfigData(documentData(document)?.data, model.file);
  const name = plan.located.name;
  const index = userIndex(before, name);
  if (index < 0) throw new Error(`the user "${name}" is not in the original`);
  if (userIndex(after, name) !== index) throw new Error(`the user "${name}" moved or disappeared`);
  const old = splitUser(before, index);
  const next = splitUser(after, index);
  if (!deepEqual(old.rest, next.rest)) throw new Error('something outside the user entry changed');
  if (!isObject(next.body)) throw new Error('the user body is no longer a mapping');
  const check = plan.check(next.body);
  if (check !== undefined) throw new Error(check);
}

function decide(options: VerifyOptions, size: number): { tryLocal: boolean; alsoFull: boolean } {
  const mode = options.mode ?? 'auto';
  return { tryLocal: mode !== 'full', alsoFull: mode === 'full' || (mode === 'auto' && size < (options.fullBelowBytes ?? FULL_VERIFY_BELOW_BYTES)) };
}

function run(model: KubeconfigText, what: string, options: VerifyOptions, patched: string, local: () => string | undefined, full: () => void): Verification {
  const { tryLocal, alsoFull } = decide(options, model.text.length);
  let localRefused: string | undefined = 'not tried';
  try {
    if (tryLocal) localRefused = local();
    if (localRefused !== undefined && options.mode === 'local') throw new Error(`the local proof could not be made: ${localRefused}`);
    if (localRefused !== undefined || alsoFull) full();
  } catch (error) {
    if (error instanceof KubeconfigError) throw error;
    throw refusal(model.file, what, error instanceof Error ? error.message : String(error));
  }
  void patched;
  return { local: localRefused === undefined, full: localRefused !== undefined || alsoFull, ...(localRefused !== undefined ? { localRefused } : {}) };
}

/** Verifies a user entry's plan against the text it produces; throws `unverifiable` naming the problem. */
export function verifyUserPlan(model: KubeconfigText, plan: UserPlan, patched: string, options: VerifyOptions = {}): Verification {
  return run(model, `the credentials of "${plan.located.name}"`, options, patched, () => localUser(model, plan), () => fullUser(model, plan, patched));
}

function localDocument(model: KubeconfigText, plan: DocumentPlan): string | undefined {
  const { segment } = plan;
  if (segment === undefined) return 'no segment';
  const scan = model.scan();
  if (!scan.vouched) return `the scan cannot vouch for the file (${scan.reason})`;
  const boundaries = new Set([...scan.keys.map((key) => key.start), model.text.length]);
  if (!boundaries.has(segment.start) || !boundaries.has(segment.end)) return 'the segment is not whole top-level keys';
  if (!within(plan.edits, segment.start, segment.end)) return 'the edits leave the segment';
  if (segment.end === model.text.length && segment.start === segment.end && !model.text.endsWith('\n') && model.text.length > 0) return 'the file ends without a line break';
  const oldText = model.text.slice(segment.start, segment.end);
  const newText = applyEdits(oldText, shift(plan.edits, segment.start));
  if (segment.end < model.text.length && newText !== '' && !newText.endsWith('\n')) return 'the new keys would run into the next line';
  if (newText !== '') {
    const scanned = scanKubeconfig(newText);
    if (!scanned.vouched) return `the new keys are not self-contained (${scanned.reason})`;
  }
  const parse = (text: string): Json | string => {
    if (text.trim() === '') return {};
    const document = parseYaml(text);
    const problem = patchedProblem(document, text);
    if (problem !== undefined) return problem;
    if (document.warnings.length > 0) return 'it parses with warnings';
    const data = documentData(document)?.data;
    return isObject(data) ? data : 'it is not a mapping';
  };
  const before = parse(oldText);
  const after = parse(newText);
  if (typeof before === 'string') return `the old keys do not stand alone (${before})`;
  if (typeof after === 'string') return `the new keys do not stand alone (${after})`;
  if (repeatedKey(parseYaml(newText).contents) !== undefined) return 'the new keys repeat one';
  if (!deepEqual(after, plan.expected(before))) throw new Error(`${plan.what} would not hold what was meant`);
  return undefined;
}

function fullDocument(model: KubeconfigText, plan: DocumentPlan, patched: string): void {
  const before = model.full().data;
  const document = parseYaml(patched);
  const problem = patchedProblem(document, patched);
  if (problem !== undefined) throw new Error(problem);
  const after = kubeconfigData(documentData(document)?.data, model.file);
  if (!deepEqual(after, plan.expected(before))) throw new Error(`the file would not hold exactly what was meant (${plan.what}) and nothing else`);
}

/** Verifies a document plan against the text it produces; throws `unverifiable` naming the problem. */
export function verifyDocumentPlan(model: KubeconfigText, plan: DocumentPlan, patched: string, options: VerifyOptions = {}): Verification {
  return run(model, plan.what, options, patched, () => localDocument(model, plan), () => fullDocument(model, plan, patched));
}
