// Merging a kubeconfig into the file, the way `az aks get-credentials` merges the one Azure returns:
// entries are matched by name; a new one is appended to its list, one identical to what is there is left
// alone, and one of the same name and different content is a conflict the person resolves (replace it,
// or keep both under a new name). Unlike az, which rewrites the whole file through PyYAML, only the
// appended or replaced entries change: every other byte stays, appended entries follow the file's
// style (indentation, kubectl's indentless lists, CRLF), current-context is never touched, and the
// result is verified against the original as data before it replaces the file.
import { isMap, isScalar, isSeq, stringify as stringifyYaml, type Document, type YAMLSeq } from 'yaml';
import { KubeconfigError, fileSystemError, isNodeError } from './errors';
import { parseSkeleton, storedSkeleton } from './identity';
import { anchorsUnder, deepEqual, isObject, keyName, mentionsAlias, type Json } from './document';
import { KubeconfigText, LIST_NAMES, kubeconfigData, listNode, parseWhole, type ListName } from './entries';
import { applyEdits, checkCharacters, dominantEol, lineStart, nextLineStart, type Edit } from './text';
import { verifyDocumentPlan, type DocumentPlan } from './verify';
import { createPrivateFile, readText, resolveTarget, updateFile, type Transform, type WriteOptions, type WriteReport } from './write';

export type EntryKind = 'cluster' | 'context' | 'user';
export type MergeResolution = 'replace' | 'keepBoth';

export interface MergePlanEntry {
  kind: EntryKind;
  name: string;
  /** new: no entry of that name; identical: the same content is there (left alone); conflict: same name, other content. */
  status: 'new' | 'identical' | 'conflict';
}

export interface MergePlan {
  file: string;
  exists: boolean;
  entries: MergePlanEntry[];
  /** The `kind:name` keys that need a resolution. */
  conflicts: string[];
  /** The incoming file's current-context, for a separate setCurrentContext if the caller wants it. */
  incomingCurrentContext?: string;
}

export interface MergedEntry {
  kind: EntryKind;
  /** The name the entry had in the incoming kubeconfig, and the one it has in the file now. */
  incoming: string;
  name: string;
  action: 'added' | 'replaced' | 'unchanged' | 'keptBoth';
}

export interface MergeReport extends WriteReport {
  created: boolean;
  clusters: MergedEntry[];
  contexts: MergedEntry[];
  users: MergedEntry[];
}

const KIND: Record<ListName, EntryKind> = { clusters: 'cluster', contexts: 'context', users: 'user' };
// kubectl writes the top-level keys in this order; a missing list goes before the first key after it.
const KEY_ORDER = ['apiVersion', 'clusters', 'contexts', 'current-context', 'kind', 'preferences', 'users'];
const SECRET_KEYS = ['token', 'tokenFile', 'client-key-data', 'client-key', 'password'];

interface Incoming {
  lists: Record<ListName, Json[]>;
  currentContext?: string;
}

function parseIncoming(text: string, file: string): Incoming {
  let data: Json;
  try {
    checkCharacters(text, 'the kubeconfig to merge');
    data = parseWhole(text, 'the kubeconfig to merge').data;
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    throw new KubeconfigError(error.kind === 'notKubeconfig' ? 'notKubeconfig' : 'malformed', file, `The kubeconfig to merge into ${file} cannot be read: ${error.message} Nothing was changed.`);
  }
  const lists = {} as Record<ListName, Json[]>;
  for (const list of LIST_NAMES) {
    const entries = Array.isArray(data[list]) ? (data[list] as unknown[]) : [];
    const seen = new Set<string>();
    lists[list] = entries.map((entry) => {
      if (!isObject(entry) || typeof entry['name'] !== 'string' || entry['name'] === '') {
        throw new KubeconfigError('notKubeconfig', file, `The kubeconfig to merge into ${file} has a ${KIND[list]} without a name. Nothing was changed.`);
      }
      if (seen.has(entry['name'])) throw new KubeconfigError('duplicateName', file, `The kubeconfig to merge into ${file} defines the ${KIND[list]} "${entry['name']}" twice. Nothing was changed.`);
      seen.add(entry['name']);
      return entry;
    });
  }
  const current = data['current-context'];
  return { lists, ...(typeof current === 'string' && current !== '' ? { currentContext: current } : {}) };
}

function existingEntries(data: Json, list: ListName): Json[] {
  const entries = data[list];
  return Array.isArray(entries) ? entries.filter(isObject) : [];
}

function statusOf(existing: Json[], entry: Json): MergePlanEntry['status'] {
  const found = existing.find((candidate) => candidate['name'] === entry['name']);
  if (found === undefined) return 'new';
  return sameEntry(found, entry) ? 'identical' : 'conflict';
}

/** The plan and the merge decide alike whether an entry there is the one coming in. */
function sameEntry(found: Json, entry: Json): boolean {
  return deepEqual(found, entry) || deepEqual(asFetched(found), entry);
}

/**
 * A user we signed in, as Azure would hand it out: its kept skeleton in place of the token. The same
 * cluster fetched again is then the same entry, not a conflict that would cost the sign-in.
 */
function asFetched(entry: Json): Json {
  const body = entry['user'];
  const kept = isObject(body) ? storedSkeleton(body) : undefined;
  const skeleton = kept === undefined ? undefined : parseSkeleton(kept);
  return skeleton === undefined ? entry : { ...entry, user: skeleton };
}

/** Whether a user entry carries a secret, so the file that receives it must be readable by its owner only. */
function holdsSecret(user: Json): boolean {
  const body = user['user'];
  if (!isObject(body)) return false;
  if (SECRET_KEYS.some((key) => body[key] !== undefined && body[key] !== '')) return true;
  const provider = body['auth-provider'];
  const config = isObject(provider) && isObject(provider['config']) ? provider['config'] : {};
  return config['access-token'] !== undefined || config['refresh-token'] !== undefined;
}

/** What merging `incomingText` into `file` would do, entry by entry; reads only. */
export async function planKubeconfigMerge(file: string, incomingText: string): Promise<MergePlan> {
  const incoming = parseIncoming(incomingText, file);
  let data: Json = {};
  let exists = true;
  try {
    const target = await resolveTarget(file);
    const { text } = await readText(target, file);
    const model = new KubeconfigText(text, file);
    data = model.full().data;
    model.checkDuplicates();
  } catch (error) {
    if (!(error instanceof KubeconfigError && error.kind === 'notFound')) throw error;
    exists = false;
  }
  const entries: MergePlanEntry[] = [];
  for (const list of LIST_NAMES) {
    const existing = existingEntries(data, list);
    for (const entry of incoming.lists[list]) entries.push({ kind: KIND[list], name: entry['name'] as string, status: statusOf(existing, entry) });
  }
  return {
    file,
    exists,
    entries,
    conflicts: entries.filter((entry) => entry.status === 'conflict').map((entry) => `${entry.kind}:${entry.name}`),
    ...(incoming.currentContext !== undefined ? { incomingCurrentContext: incoming.currentContext } : {}),
  };
}

function uniqueName(name: string, taken: Set<string>): string {
  for (let n = 2; ; n++) {
    const candidate = `${name}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

interface Decided {
  merged: Record<ListName, MergedEntry[]>;
  /** Per list: entries to append, and existing indices to replace with an entry. */
  append: Record<ListName, Json[]>;
  replace: Record<ListName, Map<number, Json>>;
}

/** Decides every incoming entry against the file's data; throws `conflict` for any left unresolved. */
function decide(data: Json, incoming: Incoming, resolutions: Record<string, MergeResolution>, file: string): Decided {
  const merged = { clusters: [], contexts: [], users: [] } as Record<ListName, MergedEntry[]>;
  const append = { clusters: [], contexts: [], users: [] } as Record<ListName, Json[]>;
  const replace = { clusters: new Map(), contexts: new Map(), users: new Map() } as Record<ListName, Map<number, Json>>;
  const renamed: Record<'clusters' | 'users', Map<string, string>> = { clusters: new Map(), users: new Map() };
  const unresolved: string[] = [];
  // Users before contexts, so a context can follow its user to a new name too.
  for (const list of ['clusters', 'users', 'contexts'] as const) {
    const existing = existingEntries(data, list);
    const taken = new Set([...existing.map((entry) => String(entry['name'])), ...incoming.lists[list].map((entry) => String(entry['name']))]);
    for (const original of incoming.lists[list]) {
      let entry = original;
      let rewritten = false;
      if (list === 'contexts' && isObject(entry['context'])) {
        // A context follows its cluster and user to the names they were kept under.
        const context = { ...entry['context'] };
        for (const [key, from] of [['cluster', renamed.clusters], ['user', renamed.users]] as const) {
          const to = typeof context[key] === 'string' ? from.get(context[key] as string) : undefined;
          if (to !== undefined) {
            context[key] = to;
            rewritten = true;
          }
        }
        entry = { ...entry, context };
      }
      const name = entry['name'] as string;
      const key = `${KIND[list]}:${name}`;
      const index = existing.findIndex((candidate) => candidate['name'] === name);
      const at = index < 0 ? -1 : (data[list] as unknown[]).indexOf(existing[index]);
      if (at < 0) {
        append[list].push(entry);
        merged[list].push({ kind: KIND[list], incoming: name, name, action: 'added' });
      } else if (sameEntry(existing[index] as Json, entry)) {
        merged[list].push({ kind: KIND[list], incoming: name, name, action: 'unchanged' });
      } else {
        const resolution = resolutions[key] ?? (rewritten ? 'keepBoth' : undefined);
        if (resolution === undefined) unresolved.push(key);
        else if (resolution === 'replace') {
          replace[list].set(at, entry);
          merged[list].push({ kind: KIND[list], incoming: name, name, action: 'replaced' });
        } else {
          const fresh = uniqueName(name, taken);
          taken.add(fresh);
          if (list !== 'contexts') renamed[list].set(name, fresh);
          append[list].push({ ...entry, name: fresh });
          merged[list].push({ kind: KIND[list], incoming: name, name: fresh, action: 'keptBoth' });
        }
      }
    }
  }
  if (unresolved.length > 0) {
    unresolved.sort((a, b) => LIST_NAMES.indexOf(`${a.split(':')[0]}s` as ListName) - LIST_NAMES.indexOf(`${b.split(':')[0]}s` as ListName));
    const names = unresolved.map((key) => key.replace(':', ' "') + '"').join(', ');
    throw new KubeconfigError('conflict', file, `The kubeconfig ${file} already has ${names} with other content. Choose for each whether to replace it or keep both; nothing was changed.`);
  }
  return { merged, append, replace };
}

/** The data the file must hold after the merge: the same lists, replaced entries in place, new ones at the end. */
function expectedData(old: Json, decided: Decided): Json {
  const next: Json = { ...old };
  for (const list of LIST_NAMES) {
    const appended = decided.append[list];
    const replaced = decided.replace[list];
    if (appended.length === 0 && replaced.size === 0) continue;
    const before = Array.isArray(old[list]) ? (old[list] as unknown[]) : [];
    next[list] = [...before.map((entry, index) => replaced.get(index) ?? entry), ...appended];
  }
  return next;
}

interface Style {
  eol: string;
  step: number;
  indentless: boolean;
}

function styleOf(text: string, document: Document.Parsed): Style {
  let indentless = true;
  let step = 2;
  for (const list of LIST_NAMES) {
    const node = listNode(document, list);
    const first = node?.items[0];
    if (node === undefined || node.flow || node.range == null || !isMap(first)) continue;
    indentless = node.range[0] - lineStart(text, node.range[0]) === 0;
    const nested = first.items.find((pair) => isMap(pair.value) && !pair.value.flow);
    const key = nested?.key as { range?: [number, number, number] } | undefined;
    const inner = (nested?.value as { range?: [number, number, number] } | undefined)?.range;
    if (key?.range !== undefined && inner !== undefined) {
      const keyColumn = key.range[0] - lineStart(text, key.range[0]);
      const innerColumn = inner[0] - lineStart(text, inner[0]);
      if (innerColumn > keyColumn) step = innerColumn - keyColumn;
    }
    break;
  }
  return { eol: dominantEol(text), step, indentless };
}

/** Block YAML for list items at `dash`, one line per line of `text`'s style. */
function itemsYaml(entries: Json[], dash: number, style: Style): string {
  const text = stringifyYaml(entries, { indent: style.step, indentSeq: !style.indentless, lineWidth: 0 });
  // yaml writes a block scalar's leading empty line as indentation only; an empty line means the same.
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => (line.trim() === '' ? '' : ' '.repeat(dash) + line) + style.eol)
    .join('');
}

function flowItems(entries: Json[]): string {
  return entries.map((entry) => JSON.stringify(entry)).join(', ');
}

/** The start of the line after the node's last content line, in the whole text. */
function endOfContent(text: string, end: number): number {
  const start = lineStart(text, end);
  let at = text.slice(start, end).trim() === '' ? start : nextLineStart(text, end);
  while (at > 0) {
    const previous = lineStart(text, at - 1);
    const line = text.slice(previous, at).trim();
    if (line !== '' && !line.startsWith('#')) break;
    at = previous;
  }
  return at;
}

function mergeEdits(text: string, file: string, document: Document.Parsed, decided: Decided): Edit[] {
  const root = document.contents;
  if (root === null || root === undefined) {
    // An empty file (or comments only): the lists go after what is there.
    const eol = dominantEol(text);
    return [{ start: text.length, end: text.length, text: (text === '' || text.endsWith('\n') ? '' : eol) + newFileText(decided).replace(/\n/g, eol) }];
  }
  if (!isMap(root) || root.range == null) throw new Error('not a mapping');
  const style = styleOf(text, document);
  const edits: Edit[] = [];
  const missing: Array<[ListName, Json[]]> = [];
  for (const list of LIST_NAMES) {
    const node = listNode(document, list);
    const pair = root.items.find((item) => keyName(item.key) === list);
    const appended = decided.append[list];
    if (node !== undefined) {
      for (const [index, entry] of decided.replace[list]) edits.push(replaceItem(text, file, list, node, index, entry, style));
    }
    if (appended.length === 0) continue;
    if (pair === undefined) {
      missing.push([list, appended]);
      continue;
    }
    if (node !== undefined && node.flow && node.range != null && (node.items.length > 0 || root.flow)) {
      // [a, b] gains `, c` before its closing bracket.
      const close = node.range[1] - 1;
      edits.push({ start: close, end: close, text: `${node.items.length > 0 ? ', ' : ''}${flowItems(appended)}` });
    } else if (node !== undefined && !node.flow && node.items.length > 0 && node.range != null) {
      const dash = node.range[0] - lineStart(text, node.range[0]);
      const last = node.items[node.items.length - 1] as { range?: [number, number, number] };
      let at = endOfContent(text, last.range![1]);
      let piece = itemsYaml(appended, dash, style);
      if (at > 0 && text[at - 1] !== '\n') piece = style.eol + piece;
      if (at === text.length && !text.endsWith('\n')) {
        piece = style.eol + piece.slice(0, -style.eol.length);
        at = text.length;
      }
      edits.push({ start: at, end: at, text: piece });
    } else {
      // `users:`, `users: null` or `users: []`: the value becomes a block list on the lines below the key.
      const value = pair.value as { range?: [number, number, number]; source?: unknown } | null;
      const key = pair.key as { range?: [number, number, number] };
      const keyLineEnd = text.indexOf('\n', key.range![1]);
      if (value?.range != null && value.range[1] > value.range[0] && (isScalar(value) || isSeq(value))) {
        const start = text[value.range[0] - 1] === ' ' ? value.range[0] - 1 : value.range[0];
        edits.push({ start, end: value.range[1], text: '' });
      }
      const items = itemsYaml(appended, style.indentless ? 0 : style.step, style);
      if (keyLineEnd === -1) edits.push({ start: text.length, end: text.length, text: style.eol + items.slice(0, -style.eol.length) });
      else edits.push({ start: keyLineEnd + 1, end: keyLineEnd + 1, text: items });
    }
  }
  if (missing.length > 0) edits.push(...missingLists(text, root, missing, style));
  return edits;
}

function replaceItem(text: string, file: string, list: ListName, node: YAMLSeq, index: number, entry: Json, style: Style): Edit {
  const item = node.items[index] as { range?: [number, number, number] } | undefined;
  if (item?.range == null) throw new Error('an entry without a place');
  for (const anchor of anchorsUnder(item)) {
    if (mentionsAlias(text, anchor.name)) {
      throw new KubeconfigError(
        'unverifiable',
        file,
        `AKS Sign-In did not change ${file}: the ${KIND[list]} "${String(entry['name'])}" defines an anchor (&${anchor.name}) that is used elsewhere (*${anchor.name}), so replacing it would leave that alias pointing at nothing. Keep both instead, or replace *${anchor.name} with the value it stands for; the file was left untouched.`,
      );
    }
  }
  if (node.flow) return { start: item.range[0], end: item.range[1], text: JSON.stringify(entry) };
  const start = lineStart(text, item.range[0]);
  const dash = text.lastIndexOf('-', item.range[0]);
  const column = dash - start;
  const end = endOfContent(text, item.range[1]);
  let piece = itemsYaml([entry], column, style);
  if (end === text.length && !text.endsWith('\n')) piece = piece.slice(0, -style.eol.length);
  return { start, end, text: piece };
}

function missingLists(text: string, root: NonNullable<Document.Parsed['contents']> & { items: Array<{ key: unknown }>; flow?: boolean; range?: [number, number, number] | null }, missing: Array<[ListName, Json[]]>, style: Style): Edit[] {
  if (root.flow) {
    const open = root.range![0] + 1;
    return [{ start: open, end: open, text: missing.map(([list, entries]) => `${JSON.stringify(list)}: [${flowItems(entries)}], `).join('') }];
  }
  const keys = root.items
    .map((pair) => ({ name: keyName(pair.key), at: (pair.key as { range?: [number, number, number] } | null)?.range?.[0] }))
    .filter((key): key is { name: string | undefined; at: number } => key.at !== undefined && (key.at === 0 || text[key.at - 1] === '\n' || (key.at === 1 && text[0] === '\ufeff')));
  return missing.map(([list, entries]) => {
    const rank = KEY_ORDER.indexOf(list);
    const before = keys.find((key) => KEY_ORDER.indexOf(key.name ?? '') > rank);
    const lines = `${list}:${style.eol}${itemsYaml(entries, style.indentless ? 0 : style.step, style)}`;
    if (before !== undefined) return { start: before.at, end: before.at, text: lines };
    const end = endOfContent(text, root.range![1]);
    return { start: end, end, text: (end > 0 && text[end - 1] !== '\n' ? style.eol : '') + lines };
  });
}

function newFileText(decided: Decided): string {
  const style: Style = { eol: '\n', step: 2, indentless: true };
  const list = (name: ListName) => (decided.append[name].length > 0 ? `${name}:\n${itemsYaml(decided.append[name], 0, style)}` : `${name}: []\n`);
  return `apiVersion: v1\n${list('clusters')}${list('contexts')}current-context: ""\nkind: Config\npreferences: {}\n${list('users')}`;
}

/** The data of newFileText(decided). */
function newFileData(decided: Decided): Json {
  return { apiVersion: 'v1', clusters: decided.append.clusters, contexts: decided.append.contexts, 'current-context': '', kind: 'Config', preferences: {}, users: decided.append.users };
}

function report(decided: Decided, created: boolean, write: WriteReport): MergeReport {
  return { ...write, created, clusters: decided.merged.clusters, contexts: decided.merged.contexts, users: decided.merged.users };
}

/**
 * Merges `incomingText` (a kubeconfig, as Azure's listClusterUserCredential returns it) into `file`;
 * `resolutions` says, per `kind:name` conflict, whether to replace the entry or keep both. Creates the
 * file (mode 0600) and its folder when they are missing. Never changes current-context.
 */
export async function mergeKubeconfig(file: string, incomingText: string, resolutions: Record<string, MergeResolution> = {}, options: WriteOptions = {}): Promise<MergeReport> {
  const incoming = parseIncoming(incomingText, file);
  const secret = incoming.lists.users.some(holdsSecret);
  for (let attempt = 0; attempt < 3; attempt++) {
    let exists = true;
    try {
      await resolveTarget(file);
    } catch (error) {
      if (!(error instanceof KubeconfigError && error.kind === 'notFound')) throw error;
      exists = false;
    }
    if (!exists) {
      const decided = decide({}, incoming, resolutions, file);
      const text = newFileText(decided);
      if (!deepEqual(kubeconfigData(parseWhole(text, file).data, file), newFileData(decided))) {
        throw new KubeconfigError('unverifiable', file, `AKS Sign-In did not create ${file}: the new file did not read back as the entries to merge.`);
      }
      if (await createPrivateFile(file, text)) return report(decided, true, { changed: true });
      continue; // Someone created it meanwhile: merge into theirs.
    }
    let decided: Decided | undefined;
    const transform: Transform = (model) => {
      const { document, data } = model.full();
      model.checkDuplicates();
      const root = document.contents;
      for (const list of LIST_NAMES) {
        if (isMap(root) && root.items.filter((pair) => keyName(pair.key) === list).length > 1) {
          throw new KubeconfigError('unverifiable', file, `AKS Sign-In did not change ${file}: the file has the key "${list}" twice, and kubectl reads only the last list. Merge the two lists into one; the file was left untouched.`);
        }
      }
      decided = decide(data, incoming, resolutions, file);
      const edits = mergeEdits(model.text, file, document, decided);
      if (edits.length === 0) return undefined;
      const patched = applyEdits(model.text, edits);
      const empty = document.contents === null || document.contents === undefined;
      const plan: DocumentPlan = { edits, expected: (old) => (empty ? newFileData(decided!) : expectedData(old, decided!)), what: 'the merged entries' };
      return { patched, edits, verification: verifyDocumentPlan(model, plan, patched, { mode: 'full' }) };
    };
    try {
      const written = await updateFile(file, transform, secret, options);
      return report(decided!, false, written);
    } catch (error) {
      if (error instanceof KubeconfigError && error.kind === 'notFound') continue;
      if (error instanceof KubeconfigError) throw error;
      if (isNodeError(error)) throw fileSystemError(error, file, 'write');
      throw new KubeconfigError('unverifiable', file, `AKS Sign-In did not merge into ${file}: the file is laid out in a way it cannot extend (${error instanceof Error ? error.message : String(error)}). Nothing was changed.`);
    }
  }
  throw new KubeconfigError('changedOnDisk', file, `The kubeconfig ${file} kept appearing and disappearing while AKS Sign-In was merging into it. Try again.`);
}
