// Finds one user entry in kubeconfig text without parsing the whole file. Kubeconfigs that
// `az aks get-credentials` merges grow to megabytes (one CA bundle per cluster), and a token refresh
// must cost less than kubectl's own rewrite, so block-style files are scanned line by line and only
// the owned entry is parsed; flow-style and JSON files, which the scan cannot follow, are parsed whole.
import { isMap, isScalar, isSeq, parseDocument, visit, type Node, type Pair, type YAMLMap } from 'yaml';
import { KubeconfigError } from './errors';
import { parseKubeconfigText } from './read';

export interface LocatedUser {
  /** The user body (the value of `user:`) as plain data. */
  body: Record<string, unknown>;
  /** Offset of the `user` key in the whole text. */
  userKeyOffset: number;
  /** Offsets of the body node in the whole text. */
  bodyRange: [number, number];
  /** Whether the body is a block mapping, so it can be patched line by line. */
  blockBody: boolean;
  /** Whether sequences in this file sit at their parent key's indentation, as kubectl writes them. */
  indentlessSequences: boolean;
}

function unknownUser(file: string, userName: string): KubeconfigError {
  return new KubeconfigError('notFound', file, `The kubeconfig ${file} has no user "${userName}". Run az aks get-credentials for the cluster again, or choose the kubeconfig that defines it.`);
}

function duplicateUser(file: string, userName: string): KubeconfigError {
  return new KubeconfigError('duplicateName', file, `The kubeconfig ${file} defines the user "${userName}" more than once, so it is unclear which one kubectl uses. Remove the duplicate by hand.`);
}

function malformed(file: string, line: number, code: string): KubeconfigError {
  return new KubeconfigError('malformed', file, `The kubeconfig ${file} is not valid YAML (line ${line}: ${code}). Fix the file by hand; it was left untouched.`);
}

function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The value of a plain, single- or double-quoted scalar written on one line; undefined for anything fancier. */
export function inlineScalarValue(raw: string): string | undefined {
  const trimmed = raw.replace(/\s+#.*$/, '').trim();
  if (trimmed.startsWith('"')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }
  if (trimmed.startsWith("'")) return trimmed.length >= 2 && trimmed.endsWith("'") ? trimmed.slice(1, -1).replace(/''/g, "'") : undefined;
  if (/^[[{&*!|>%@`]/.test(trimmed)) return undefined;
  return trimmed;
}

interface Item {
  start: number;
  end: number;
  /** undefined: the name could not be read cheaply, so the item must be parsed. */
  names: Array<string | undefined>;
}

const USERS_LINE = /^users:[ \t]*(?:#[^\n]*)?\r?$/gm;

/** The items of the top-level block `users:` list, or undefined when the file is not laid out that way. */
function scanUserItems(text: string): { items: Item[]; indentless: boolean } | undefined {
  const starts = [...text.matchAll(USERS_LINE)];
  if (starts.length !== 1 || starts[0]?.index === undefined) return undefined;
  let position = text.indexOf('\n', starts[0].index);
  if (position === -1) return { items: [], indentless: true };
  position++;
  const items: Item[] = [];
  let sequenceIndent = -1;
  let keyIndent = -1;
  let current: Item | undefined;
  while (position < text.length) {
    const newline = text.indexOf('\n', position);
    const lineEnd = newline === -1 ? text.length : newline;
    const next = newline === -1 ? text.length : newline + 1;
    let indent = 0;
    while (text.charCodeAt(position + indent) === 32) indent++;
    const first = text[position + indent];
    const blank = first === undefined || position + indent >= lineEnd || first === '\r';
    if (blank || first === '#') {
      position = next;
      continue;
    }
    if (first === '\t') return undefined;
    if (sequenceIndent === -1) {
      if (first !== '-') return undefined;
      sequenceIndent = indent;
    }
    const isItemStart = indent === sequenceIndent && first === '-' && /^-(?:[ ]|\r?$)/.test(text.slice(position + indent, position + indent + 3));
    if (indent < sequenceIndent || (indent === sequenceIndent && !isItemStart)) {
      if (text.startsWith('---', position) || text.startsWith('...', position)) return undefined;
      break;
    }
    if (isItemStart) {
      if (current !== undefined) current.end = position;
      current = { start: position, end: text.length, names: [] };
      items.push(current);
      let after = position + indent + 1;
      while (text.charCodeAt(after) === 32) after++;
      keyIndent = after - position;
      const rest = text.slice(after, lineEnd);
      if (rest.startsWith('{') || rest.startsWith('[')) current.names.push(undefined);
      else if (rest.startsWith('name:')) current.names.push(inlineScalarValue(rest.slice(5)));
    } else if (current !== undefined && indent === keyIndent && text.startsWith('name:', position + indent)) {
      current.names.push(inlineScalarValue(text.slice(position + indent + 5, lineEnd)));
    }
    position = next;
  }
  if (current !== undefined && current.end === text.length) current.end = position;
  return { items, indentless: sequenceIndent === 0 };
}

function userPair(item: YAMLMap): Pair | undefined {
  return item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'user');
}

function hasAlias(node: Node): boolean {
  let found = false;
  visit(node, {
    Alias() {
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}

function fromItemNode(item: unknown, base: number, file: string, userName: string, indentless: boolean): LocatedUser {
  if (!isMap(item)) throw unknownUser(file, userName);
  const pair = userPair(item);
  const key = pair?.key as Node | undefined;
  const value = pair?.value as Node | undefined | null;
  if (pair === undefined || key?.range == null) throw new KubeconfigError('notAks', file, `The user "${userName}" in ${file} has no credentials section, so it is not an AKS Entra ID user. Run az aks get-credentials again.`);
  // A bare toJSON() expands aliases without yaml's limit (an alias bomb exhausts memory), and an entry
  // whose skeleton leans on an anchor elsewhere could not be restored on its own at sign-out.
  if (value != null && hasAlias(value)) {
    throw new KubeconfigError('malformed', file, `The user "${userName}" in ${file} uses YAML aliases (*name), which AKS Sign-In does not expand in a user entry. Replace them with their values by hand; the file was left untouched.`);
  }
  const body: unknown = value == null ? null : value.toJSON();
  if (!isMap(value) || value.range == null || typeof body !== 'object' || body === null) {
    throw new KubeconfigError('notAks', file, `The user "${userName}" in ${file} is not an AKS Entra ID user; AKS Sign-In leaves it alone.`);
  }
  return {
    body: body as Record<string, unknown>,
    userKeyOffset: base + key.range[0],
    bodyRange: [base + value.range[0], base + value.range[1]],
    blockBody: !value.flow,
    indentlessSequences: indentless,
  };
}

function nameOf(item: unknown): unknown {
  return isMap(item) ? item.get('name') : undefined;
}

function locateByFullParse(text: string, file: string, userName: string): LocatedUser {
  parseKubeconfigText(text, file);
  const document = parseDocument(text);
  const users = isMap(document.contents) ? document.contents.get('users', true) : undefined;
  if (!isSeq(users)) throw unknownUser(file, userName);
  const matches = users.items.filter((item) => nameOf(item) === userName);
  if (matches.length > 1) throw duplicateUser(file, userName);
  if (matches.length === 0) throw unknownUser(file, userName);
  return fromItemNode(matches[0], 0, file, userName, !users.flow);
}

/** Finds the user entry `userName` defines in `text`; throws a KubeconfigError when it cannot be patched. */
const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?:[ \t\r]|$)/m;
const TOP_LEVEL_KEY = /^([^\s#\-?:,[\]{}'"|>!&*%@`][^:\r\n]*|"[^"\r\n]*"|'[^'\r\n]*'):(?=[ \t\r\n]|$)/gm;

/**
 * Whether the file has a second document or a top-level key twice, which the line scan cannot see but
 * which make the file something kubectl refuses or reads differently; a full parse then decides.
 */
function scanCannotVouch(text: string): boolean {
  if (DOCUMENT_MARKER.test(text)) return true;
  const keys = new Set<string>();
  for (const match of text.matchAll(TOP_LEVEL_KEY)) {
    const key = match[1] ?? '';
    if (keys.has(key)) return true;
    keys.add(key);
  }
  return false;
}

export function locateUser(text: string, file: string, userName: string): LocatedUser {
  const scanned = scanCannotVouch(text) ? undefined : scanUserItems(text);
  if (scanned === undefined) return locateByFullParse(text, file, userName);
  const candidates = scanned.items.filter((item) => item.names.length !== 1 || item.names[0] === undefined || item.names[0] === userName);
  const unclear = candidates.filter((item) => item.names.length !== 1 || item.names[0] === undefined);
  if (unclear.length > 0) return locateByFullParse(text, file, userName);
  if (candidates.length > 1) throw duplicateUser(file, userName);
  const match = candidates[0];
  // Only a full parse can tell a missing user from a file the scan could not follow (tabs, stray text).
  if (match === undefined) return locateByFullParse(text, file, userName);
  const slice = text.slice(match.start, match.end);
  const document = parseDocument(slice);
  const error = document.errors[0];
  if (error !== undefined) throw malformed(file, lineNumberAt(text, match.start + error.pos[0]), error.code);
  const sequence = document.contents;
  if (!isSeq(sequence) || sequence.items.length !== 1 || nameOf(sequence.items[0]) !== userName) return locateByFullParse(text, file, userName);
  return fromItemNode(sequence.items[0], match.start, file, userName, scanned.indentless);
}
