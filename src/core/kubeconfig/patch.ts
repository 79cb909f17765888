// Edits of one user entry. Only the lines of the credential (`token`, `auth-provider`, `exec`) and our
// own `extensions` item change; every other byte of the file, including comments and unknown keys inside
// the same entry, is kept as it was. Where each key's lines begin comes from `yaml`'s source tokens, not
// from reading keys off the lines, so keys such as `a#b`, `1` or `? x` are found where they are.
//
// Why the skeleton lives in the entry's `extensions`: kubectl >= 1.26 refuses the azure auth-provider
// block even beside a token, so the `token` form must remove the skeleton from the credential section,
// yet Sign Out has to restore it byte for byte and the next read must still know the entry's AKS
// identity. kubeconfig v1 AuthInfo has an `extensions` list of named raw objects that kubectl (1.20
// through 1.33) carries through when it rewrites the file, so the original text survives there, in the
// file itself, with no side store to get out of step.
//
// Each plan says what it changes (the edits), what the entry must hold afterwards (check), and is then
// verified against the text it produces before anything is written (verify.ts).
import { isMap, isSeq, stringify as stringifyYaml, type YAMLMap } from 'yaml';
import { KubeconfigError } from './errors';
import { anchorsUnder, deepEqual, isObject, keyName, mentionsAlias, type Json } from './document';
import type { KubeconfigText } from './entries';
import {
  EXTENSION_NAME,
  LEGACY_TOKEN_KEYS,
  jwtClaims,
  parseSkeleton,
  skeletonIdentity,
  storedSkeleton,
  type AksIdentity,
  type CredentialFormat,
} from './identity';
import { locateUser, unverifiable, type LocatedUser } from './locate-user';
import { dominantEol, lineStart, nextLineStart, type Edit } from './text';

export interface Credentials {
  format: CredentialFormat;
  accessToken: string;
  refreshToken?: string;
  expiresOn: Date;
  expiresInSeconds: number;
  /** The tenant that issued the token; the legacy form needs one when the skeleton names none. */
  tenantId?: string;
}

/** A change to one user entry, and what the entry must hold once it is made. */
export interface UserPlan {
  located: LocatedUser;
  /** Offsets in the whole text. */
  edits: Edit[];
  /** A problem with the new user body, or undefined when it holds exactly what was meant. */
  check(newBody: Json): string | undefined;
  /** Anchors the new text defines: an alias elsewhere could come to mean them. */
  newAnchors: boolean;
}

const CREDENTIAL_KEYS = new Set(['token', 'auth-provider', 'exec']);

/** A YAML double-quoted scalar; JSON's escapes are valid there, plus the characters YAML reads as breaks. */
export function quoteYaml(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pad(width: number): string {
  return ' '.repeat(width);
}

function indentOf(text: string, from: number): number {
  let indent = 0;
  while (text.charCodeAt(from + indent) === 32) indent++;
  return indent;
}

/** The line ending of the line holding `offset`, or the file's first one when that line has none. */
function eolAt(text: string, offset: number): string {
  const newline = text.indexOf('\n', offset);
  if (newline === -1) return dominantEol(text);
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}

/** Whether the line starting at `from` is blank or a comment indented no deeper than `indent`. */
function looseLine(text: string, from: number, indent: number): boolean {
  const spaces = indentOf(text, from);
  const c = text[from + spaces];
  if (c === undefined || c === '\n' || c === '\r') return true;
  return c === '#' && spaces <= indent;
}

interface PairSpan {
  key: string | undefined;
  /** Absolute offsets: the start of the pair's first line, and the start of the line after its content. */
  start: number;
  end: number;
  valueNode: unknown;
}

/**
 * The line spans of a block mapping's pairs, in the whole text: each from the line of its first token
 * (an explicit-key `?`, a property, or the key) to the line before the next pair's, less the blank and
 * comment lines at the mapping's own indentation that sit between pairs. The last pair ends at `end`.
 */
function pairSpans(text: string, located: LocatedUser, map: YAMLMap, end: number): PairSpan[] | undefined {
  const token = map.srcToken;
  if (token === undefined || token.type !== 'block-map') return undefined;
  // Comments after the last pair come as an item of their own, with no key, separator or value.
  const items = token.items.filter((item) => item.key != null || item.sep !== undefined || item.value != null || item.start.some((t) => t.type === 'explicit-key-ind'));
  if (items.length !== map.items.length) return undefined;
  const starts: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let offset = item.start.find((t) => t.type !== 'space' && t.type !== 'comment' && t.type !== 'newline')?.offset;
    offset ??= item.key?.offset;
    offset ??= item.sep?.find((t) => t.type === 'map-value-ind')?.offset;
    if (offset === undefined) return undefined;
    starts.push(lineStart(text, located.base + offset));
  }
  const first = starts[0];
  if (first === undefined) return [];
  const indent = indentOf(text, first);
  return map.items.map((pair, i) => {
    const start = starts[i]!;
    let stop = starts[i + 1] ?? end;
    if (i + 1 < starts.length) {
      // Walk back over loose lines that end the gap before the next key.
      for (;;) {
        const previous = lineStart(text, stop - 1);
        if (previous <= start || !looseLine(text, previous, indent)) break;
        stop = previous;
      }
    }
    return { key: keyName(pair.key), start, end: stop, valueNode: pair.value };
  });
}

/** Where a node's content ends, as the start of the line after it, in the whole text. */
function lineAfter(text: string, located: LocatedUser, node: { range?: [number, number, number] | null }, from: number): number | undefined {
  if (node.range == null) return undefined;
  const valueEnd = located.base + node.range[1];
  // yaml's end of a collection may take in the comments after it and even the next line's indentation.
  const start = lineStart(text, valueEnd);
  let end = text.slice(start, valueEnd).trim() === '' ? start : nextLineStart(text, valueEnd);
  // Blank and comment lines at the end belong between entries, not to this one: the same lines stay
  // outside whether the entry is ours or the original, which is what lets sign-out restore the bytes.
  while (end > from) {
    const previous = lineStart(text, end - 1);
    if (previous < from || !looseLine(text, previous, Infinity)) break;
    end = previous;
  }
  return end;
}

interface BlockBody {
  /** The lines below `user:` holding the body: [start, end) in the whole text. */
  start: number;
  end: number;
  bodyIndent: number;
  step: number;
  eol: string;
  pairs: PairSpan[];
}

function blockBody(text: string, located: LocatedUser): BlockBody | undefined {
  const { bodyNode, userPair } = located;
  if (bodyNode.flow) return undefined;
  const key = userPair.key as { range?: [number, number, number] | null };
  if (key.range == null || bodyNode.range == null) return undefined;
  const keyOffset = located.base + key.range[0];
  const start = nextLineStart(text, keyOffset);
  const end = lineAfter(text, located, bodyNode, start);
  if (end === undefined || start > located.base + bodyNode.range[0]) return undefined;
  const pairs = pairSpans(text, located, bodyNode, end);
  if (pairs === undefined || pairs.length === 0) return undefined;
  const bodyIndent = indentOf(text, pairs[0]!.start);
  const keyColumn = keyOffset - lineStart(text, keyOffset);
  // New lines take the line ending of the body's own lines (a file may mix them; kubectl writes LF).
  return { start, end, bodyIndent, step: bodyIndent - keyColumn > 0 ? bodyIndent - keyColumn : 2, eol: eolAt(text, start < end ? start : keyOffset), pairs };
}

function hasTokenFields(body: Json): boolean {
  const authProvider = body['auth-provider'];
  const config = isObject(authProvider) && isObject(authProvider['config']) ? authProvider['config'] : {};
  return body['token'] !== undefined || LEGACY_TOKEN_KEYS.some((key) => config[key] !== undefined);
}

/** The body without any token field, so Sign Out never puts a stale token back. */
function withoutTokenFields(body: Json): Json {
  const copy: Json = { ...body };
  delete copy['token'];
  const authProvider = copy['auth-provider'];
  if (isObject(authProvider) && isObject(authProvider['config'])) {
    const config = { ...authProvider['config'] };
    for (const key of LEGACY_TOKEN_KEYS) delete config[key];
    copy['auth-provider'] = { ...authProvider, config };
  }
  return copy;
}

/**
 * The body's text without its token fields, every other byte kept; undefined when the token fields are
 * not laid out as block keys, and the caller then writes the skeleton out afresh.
 */
function textWithoutTokenFields(text: string, located: LocatedUser, block: BlockBody): string | undefined {
  const drop: Array<[number, number]> = [];
  for (const pair of block.pairs) {
    if (pair.key === 'token') drop.push([pair.start, pair.end]);
    if (pair.key !== 'auth-provider' || !isMap(pair.valueNode) || pair.valueNode.flow) continue;
    const providerEnd = lineAfter(text, located, pair.valueNode, pair.start);
    const provider = providerEnd === undefined ? undefined : pairSpans(text, located, pair.valueNode, Math.min(providerEnd, pair.end));
    const config = provider?.find((inner) => inner.key === 'config');
    if (config === undefined || !isMap(config.valueNode) || config.valueNode.flow) continue;
    const configEnd = lineAfter(text, located, config.valueNode, config.start);
    const inner = configEnd === undefined ? undefined : pairSpans(text, located, config.valueNode, Math.min(configEnd, config.end));
    for (const field of inner ?? []) if ((LEGACY_TOKEN_KEYS as readonly string[]).includes(field.key ?? '')) drop.push([field.start, field.end]);
  }
  let result = '';
  let position = block.start;
  for (const [from, to] of drop.sort((a, b) => a[0] - b[0])) {
    result += text.slice(position, from);
    position = to;
  }
  result += text.slice(position, block.end);
  return deepEqual(parseSkeleton(result) ?? null, withoutTokenFields(located.body)) ? result : undefined;
}

function blockYaml(value: Json, indent: number, step: number, indentless: boolean, eol: string): string {
  const text = stringifyYaml(value, { indent: step, indentSeq: !indentless, lineWidth: 0 });
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => (line === '' ? '' : pad(indent) + line) + eol)
    .join('');
}

function tenantFor(identity: AksIdentity, credentials: Credentials): string {
  const tid = jwtClaims(credentials.accessToken)?.['tid'];
  return credentials.tenantId ?? identity.tenantId ?? (typeof tid === 'string' ? tid : 'organizations');
}

/** The nine keys client-go's azure provider reads, all as strings, in the order kubectl writes them. */
function legacyConfig(identity: AksIdentity, credentials: Credentials): Array<[string, string]> {
  return [
    ['access-token', credentials.accessToken],
    ['apiserver-id', identity.serverId],
    ['client-id', identity.clientId],
    ['config-mode', identity.configMode ?? '0'],
    ['environment', identity.environment],
    ['expires-in', String(Math.max(0, Math.round(credentials.expiresInSeconds)))],
    ['expires-on', String(Math.floor(credentials.expiresOn.getTime() / 1000))],
    ['refresh-token', credentials.refreshToken ?? ''],
    ['tenant-id', tenantFor(identity, credentials)],
  ];
}

function credentialValue(identity: AksIdentity, credentials: Credentials): Json {
  if (credentials.format === 'token') return { token: credentials.accessToken };
  return { 'auth-provider': { config: Object.fromEntries(legacyConfig(identity, credentials)), name: 'azure' } };
}

function credentialLines(identity: AksIdentity, credentials: Credentials, indent: number, step: number, eol: string): string {
  const lines =
    credentials.format === 'token'
      ? [`${pad(indent)}token: ${quoteYaml(credentials.accessToken)}`]
      : [
          `${pad(indent)}auth-provider:`,
          `${pad(indent + step)}config:`,
          ...legacyConfig(identity, credentials).map(([key, value]) => `${pad(indent + 2 * step)}${key}: ${quoteYaml(value)}`),
          `${pad(indent + step)}name: azure`,
        ];
  return lines.map((line) => line + eol).join('');
}

function extensionItem(skeleton: string, dashColumn: number, step: number, eol: string): string {
  return [`${pad(dashColumn)}- extension:`, `${pad(dashColumn + 2 + step)}skeleton: ${quoteYaml(skeleton)}`, `${pad(dashColumn + 2)}name: ${EXTENSION_NAME}`].map((line) => line + eol).join('');
}

function notAks(file: string, userName: string): KubeconfigError {
  return new KubeconfigError('notAks', file, `The user "${userName}" in ${file} is not an AKS Entra ID user (no azure auth-provider or kubelogin exec entry); AKS Sign-In leaves it alone.`);
}

/**
 * Refuses an edit that would remove or change a node whose anchor another part of the file uses: the
 * alias would dangle, or silently come to mean something else.
 */
function checkAnchors(text: string, file: string, located: LocatedUser, removed: Array<[number, number]>): void {
  for (const anchor of anchorsUnder(located.item)) {
    const from = located.base + anchor.range[0];
    const to = located.base + anchor.range[1];
    if (!removed.some(([start, end]) => from < end && to > start)) continue;
    // An alias inside what is removed goes with its anchor; one anywhere else would be left behind.
    let remaining = '';
    let position = 0;
    for (const [start, end] of [...removed].sort((a, b) => a[0] - b[0])) {
      remaining += text.slice(position, start);
      position = end;
    }
    remaining += text.slice(position);
    if (mentionsAlias(remaining, anchor.name)) {
      throw unverifiable(
        file,
        `the user entry "${located.name}" defines an anchor (&${anchor.name}) that is used elsewhere (*${anchor.name}), so replacing the entry would leave that alias pointing at nothing or at something else`,
        `Replace *${anchor.name} with the value it stands for, then sign in again`,
      );
    }
  }
}

/** Whether a line-aligned piece of text ends without a line break (the file's last line). */
function endsOpen(piece: string): boolean {
  return piece.length > 0 && !piece.endsWith('\n');
}

/** Plan: `credentials` written into the user `userName`, in exactly one credential form. */
export function planCredentials(model: KubeconfigText, userName: string, credentials: Credentials): UserPlan {
  const { text, file } = model;
  const located = locateUser(model, userName);
  const body = located.body;
  const identity = skeletonIdentity(body);
  if (identity === undefined) throw notAks(file, userName);
  const kept = storedSkeleton(body);
  const oldExtensions = body['extensions'];
  if (oldExtensions !== undefined && oldExtensions !== null && !Array.isArray(oldExtensions)) {
    throw unverifiable(file, `the user entry "${userName}" has "extensions" that is not a list, which kubectl cannot read`, 'Make it a list or remove it');
  }
  const names = (Array.isArray(oldExtensions) ? oldExtensions : []).map((entry) => (isObject(entry) ? entry['name'] : undefined));
  if (new Set(names).size !== names.length) {
    throw new KubeconfigError('duplicateName', file, `The user "${userName}" in ${file} lists an extension name twice, and kubectl refuses such a file ("duplicate name"). Remove the duplicate by hand; the file was left untouched.`);
  }
  const wanted = credentialValue(identity, credentials);
  const check = (newBody: Json): string | undefined => {
    for (const key of Object.keys(newBody)) {
      if (!(key in body) && !(key in wanted) && key !== 'extensions') return `the entry gained the key "${key}"`;
    }
    for (const key of Object.keys(body)) {
      if (CREDENTIAL_KEYS.has(key) || key === 'extensions') continue;
      if (!deepEqual(newBody[key], body[key])) return `the key "${key}" of the entry changed`;
    }
    for (const key of CREDENTIAL_KEYS) {
      if (key in wanted ? !deepEqual(newBody[key], wanted[key]) : newBody[key] !== undefined) return `the credential "${key}" does not hold what was meant`;
    }
    if (kept !== undefined) return deepEqual(newBody['extensions'], oldExtensions) ? undefined : 'the kept skeleton changed';
    const before = Array.isArray(oldExtensions) ? oldExtensions : [];
    const after = newBody['extensions'];
    if (!Array.isArray(after) || after.length !== before.length + 1 || !deepEqual(after.slice(0, -1), before)) return 'the extensions list is not the old one plus ours';
    const ours = after[after.length - 1];
    if (!isObject(ours) || Object.keys(ours).length !== 2 || ours['name'] !== EXTENSION_NAME || !isObject(ours['extension'])) return 'our extension is not as written';
    const skeleton = ours['extension']['skeleton'];
    if (Object.keys(ours['extension']).length !== 1 || typeof skeleton !== 'string') return 'our extension holds no skeleton';
    if (!deepEqual(parseSkeleton(skeleton) ?? null, withoutTokenFields(body))) return 'the kept skeleton would not restore the entry';
    return undefined;
  };

  const block = blockBody(text, located);
  if (block === undefined) {
    // A flow body (or a JSON file): the body is replaced as one JSON object, in place.
    const range = located.bodyNode.range;
    if (!located.bodyNode.flow || range == null || text[located.base + range[0]] !== '{' || text[located.base + range[1] - 1] !== '}') {
      throw unverifiable(file, `the user entry "${userName}" is laid out in a way AKS Sign-In cannot edit line by line`, 'Reformat the entry as kubectl writes it (kubectl config view --raw)');
    }
    const start = located.base + range[0];
    const end = located.base + range[1];
    checkAnchors(text, file, located, [[start, end]]);
    const next: Json = {};
    for (const [key, value] of Object.entries(body)) if (!CREDENTIAL_KEYS.has(key)) next[key] = value;
    Object.assign(next, wanted);
    if (kept === undefined) {
      const skeleton = hasTokenFields(body) ? JSON.stringify(withoutTokenFields(body)) : text.slice(start, end);
      next['extensions'] = [...(Array.isArray(oldExtensions) ? oldExtensions : []), { extension: { skeleton }, name: EXTENSION_NAME }];
    }
    return { located, edits: [{ start, end, text: JSON.stringify(next) }], check, newAnchors: false };
  }

  const { bodyIndent, step, eol, pairs } = block;
  const owned = pairs.filter((pair) => CREDENTIAL_KEYS.has(pair.key ?? ''));
  checkAnchors(
    text,
    file,
    located,
    owned.map((pair) => [pair.start, pair.end]),
  );
  const credential = credentialLines(identity, credentials, bodyIndent, step, eol);
  const replaced = new Map<PairSpan, string>();
  const after = new Map<PairSpan, string>();
  const lastPair = pairs[pairs.length - 1]!;
  const append = (pair: PairSpan, piece: string) => after.set(pair, (after.get(pair) ?? '') + piece);
  for (const pair of owned) replaced.set(pair, '');
  if (owned[0] !== undefined) replaced.set(owned[0], credential);
  else append(lastPair, credential);

  if (kept === undefined) {
    const skeleton = hasTokenFields(body)
      ? (textWithoutTokenFields(text, located, block) ?? blockYaml(withoutTokenFields(body), bodyIndent, step, located.indentlessSequences, eol))
      : text.slice(block.start, block.end);
    const extensions = pairs.find((pair) => pair.key === 'extensions');
    const ours = { extension: { skeleton }, name: EXTENSION_NAME };
    const list = extensions?.valueNode;
    if (extensions === undefined) {
      const dashColumn = located.indentlessSequences ? bodyIndent : bodyIndent + step;
      append(lastPair, `${pad(bodyIndent)}extensions:${eol}${extensionItem(skeleton, dashColumn, step, eol)}`);
    } else if (isSeq(list) && !list.flow && list.range != null && list.items.length > 0) {
      const dash = located.base + list.range[0];
      append(extensions, extensionItem(skeleton, dash - lineStart(text, dash), step, eol));
    } else {
      // A one-line list such as `extensions: []`, or none at all, is written as a block list holding the same items.
      replaced.set(extensions, blockYaml({ extensions: [...(Array.isArray(oldExtensions) ? oldExtensions : []), ours] }, bodyIndent, step, located.indentlessSequences, eol));
    }
  }

  let out = text.slice(block.start, pairs[0]!.start);
  pairs.forEach((pair, index) => {
    const gapEnd = pairs[index + 1]?.start ?? block.end;
    let piece = replaced.get(pair) ?? text.slice(pair.start, pair.end);
    const added = after.get(pair) ?? '';
    if (endsOpen(piece) && added !== '') piece += eol;
    out += piece + added + text.slice(pair.end, gapEnd);
  });
  return { located, edits: [{ start: block.start, end: block.end, text: sameEnding(text.slice(block.start, block.end), out, eol) }], check, newAnchors: false };
}

/** `next` ending the way `old` did: with a line break, or (the file's last line) without one. */
function sameEnding(old: string, next: string, eol: string): string {
  if (endsOpen(old)) return next.endsWith('\r\n') ? next.slice(0, -2) : next.endsWith('\n') ? next.slice(0, -1) : next;
  return endsOpen(next) ? next + eol : next;
}

function reindent(skeleton: string, indent: number, eol: string): string {
  const lines = skeleton.split(/(?<=\n)/);
  const first = lines.find((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const shift = first === undefined ? 0 : indent - indentOf(first, 0);
  const endings = new Set<string>(lines.filter((line) => line.endsWith('\n')).map((line) => (line.endsWith('\r\n') ? '\r\n' : '\n')));
  // A file kubectl rewrote may have changed its line endings since the skeleton was kept.
  const convert = endings.size === 1 && !endings.has(eol);
  if (shift === 0 && !convert) return skeleton;
  return lines
    .map((line) => {
      const ending = line.endsWith('\r\n') ? '\r\n' : line.endsWith('\n') ? '\n' : '';
      let content = line.slice(0, line.length - ending.length);
      if (content.trim() !== '') content = shift >= 0 ? pad(shift) + content : content.slice(Math.min(-shift, indentOf(content, 0)));
      return content + (convert && ending !== '' ? eol : ending);
    })
    .join('');
}

/** Plan: the user `userName` back to its skeleton, what it was before we first wrote it; undefined when it already is. */
export function planClear(model: KubeconfigText, userName: string): UserPlan | undefined {
  const { text, file } = model;
  const located = locateUser(model, userName);
  const body = located.body;
  if (skeletonIdentity(body) === undefined) throw notAks(file, userName);
  const kept = storedSkeleton(body);
  if (kept === undefined && !hasTokenFields(body)) return undefined;
  const expected = kept !== undefined ? parseSkeleton(kept) : withoutTokenFields(body);
  if (expected === undefined) throw unverifiable(file, `the skeleton kept in the user entry "${userName}" is no longer a YAML mapping`, 'Run az aks get-credentials for the cluster again');
  const check = (newBody: Json) => (deepEqual(newBody, expected) ? undefined : 'the entry is not its skeleton');
  const block = blockBody(text, located);
  if (block === undefined) {
    const range = located.bodyNode.range;
    if (!located.bodyNode.flow || range == null) throw unverifiable(file, `the user entry "${userName}" is laid out in a way AKS Sign-In cannot edit line by line`, 'Reformat the entry as kubectl writes it');
    const start = located.base + range[0];
    const end = located.base + range[1];
    checkAnchors(text, file, located, [[start, end]]);
    const restored = kept !== undefined && kept.trimStart().startsWith('{') ? kept : JSON.stringify(expected);
    return { located, edits: [{ start, end, text: restored }], check, newAnchors: /[&*]/.test(restored) };
  }
  checkAnchors(text, file, located, [[block.start, block.end]]);
  const restored = sameEnding(
    text.slice(block.start, block.end),
    kept !== undefined ? reindent(kept, block.bodyIndent, block.eol) : (textWithoutTokenFields(text, located, block) ?? blockYaml(expected, block.bodyIndent, block.step, located.indentlessSequences, block.eol)),
    block.eol,
  );
  return { located, edits: [{ start: block.start, end: block.end, text: restored }], check, newAnchors: kept !== undefined && anchorsIn(restored) };
}

/** Whether YAML text may define an anchor (conservatively: any `&` after a space or at a line start). */
function anchorsIn(text: string): boolean {
  return /(?:^|[\s[{,])&/m.test(text);
}
