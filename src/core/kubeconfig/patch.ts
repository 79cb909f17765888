// Text patches of one user entry. Only the lines of the credential (`token`, `auth-provider`, `exec`)
// and our own `extensions` item change; every other byte of the file, including comments and unknown
// keys inside the same entry, is kept as it was.
//
// Why the skeleton lives in the entry's `extensions`: kubectl >= 1.26 refuses the azure auth-provider
// block even beside a token, so the `token` form must remove the skeleton from the credential section,
// yet Sign Out has to restore it byte for byte and the next read must still know the entry's AKS
// identity. kubeconfig v1 AuthInfo has an `extensions` list of named raw objects that kubectl (1.20
// through 1.33) carries through when it rewrites the file, so the original text survives there, in the
// file itself, with no side store to get out of step.
import { stringify as stringifyYaml } from 'yaml';
import { KubeconfigError } from './errors';
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
import { locateUser, type LocatedUser } from './locate-user';

export interface Credentials {
  format: CredentialFormat;
  accessToken: string;
  refreshToken?: string;
  expiresOn: Date;
  expiresInSeconds: number;
  /** The tenant that issued the token; the legacy form needs one when the skeleton names none. */
  tenantId?: string;
}

type Json = Record<string, unknown>;

interface Line {
  content: string;
  eol: string;
}

const CREDENTIAL_KEYS = new Set(['token', 'auth-provider', 'exec']);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A YAML double-quoted scalar; JSON's escapes are valid there, plus the characters YAML reads as breaks. */
export function quoteYaml(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let position = 0;
  while (position < text.length) {
    const newline = text.indexOf('\n', position);
    if (newline === -1) {
      lines.push({ content: text.slice(position), eol: '' });
      break;
    }
    const carriage = newline > position && text[newline - 1] === '\r';
    lines.push({ content: text.slice(position, carriage ? newline - 1 : newline), eol: carriage ? '\r\n' : '\n' });
    position = newline + 1;
  }
  return lines;
}

function joinLines(lines: Line[]): string {
  return lines.map((line) => line.content + line.eol).join('');
}

export function dominantEol(text: string): string {
  const newline = text.indexOf('\n');
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}

function indentOf(content: string): number {
  let indent = 0;
  while (content.charCodeAt(indent) === 32) indent++;
  return indent;
}

function isBlank(content: string): boolean {
  return content.trim() === '';
}

const KEY_LINE = /^ *("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:,[\]{}][^#]*?|-[^\s#][^#]*?)[ \t]*:(?:[ \t]|$)/;

function keyOf(content: string): string | undefined {
  const match = KEY_LINE.exec(content);
  const raw = match?.[1];
  if (raw === undefined) return undefined;
  if (raw.startsWith('"')) {
    try {
      return String(JSON.parse(raw));
    } catch {
      return undefined;
    }
  }
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  return raw;
}

function pad(width: number): string {
  return ' '.repeat(width);
}

/** The lines of a block-style user body and where each of its keys starts and ends. */
interface BlockBody {
  /** Offsets of the region in the whole text: every line below `user:` indented deeper than the key. */
  start: number;
  end: number;
  lines: Line[];
  bodyIndent: number;
  step: number;
  pairs: LinePair[];
}

function blockBody(text: string, located: LocatedUser): BlockBody | undefined {
  const keyLineStart = text.lastIndexOf('\n', located.userKeyOffset - 1) + 1;
  const keyColumn = located.userKeyOffset - keyLineStart;
  const keyLineEnd = text.indexOf('\n', located.userKeyOffset);
  if (keyLineEnd === -1) return undefined;
  const start = keyLineEnd + 1;
  const lines: Line[] = [];
  let end = start;
  let kept = start;
  let keptCount = 0;
  // Walks line by line and stops at the first line that leaves the body, so a patch near the top of a
  // large file never touches the rest of it.
  while (end < text.length) {
    const newline = text.indexOf('\n', end);
    const next = newline === -1 ? text.length : newline + 1;
    const carriage = newline > end && text[newline - 1] === '\r';
    const line: Line = { content: text.slice(end, newline === -1 ? text.length : carriage ? newline - 1 : newline), eol: newline === -1 ? '' : carriage ? '\r\n' : '\n' };
    const loose = isBlank(line.content) || line.content.trimStart().startsWith('#');
    if (!loose && indentOf(line.content) <= keyColumn) break;
    end = next;
    lines.push(line);
    // Blank and comment lines belong to the body only when more of the body follows them.
    if (!loose) {
      kept = end;
      keptCount = lines.length;
    }
  }
  lines.length = keptCount;
  end = kept;
  const firstContent = lines.find((line) => !isBlank(line.content) && !line.content.trimStart().startsWith('#'));
  if (firstContent === undefined) return undefined;
  const bodyIndent = indentOf(firstContent.content);
  const pairs = pairsAt(lines, 0, lines.length - 1, bodyIndent);
  const keys = Object.keys(located.body);
  if (pairs.length !== keys.length || pairs.some((pair, index) => pair.key !== keys[index])) return undefined;
  return { start, end, lines, bodyIndent, step: bodyIndent - keyColumn > 0 ? bodyIndent - keyColumn : 2, pairs };
}

type LinePair = { key: string; first: number; last: number };

/** The keys of a block mapping at `indent` within lines[from..to], each with the lines it spans. */
function pairsAt(lines: Line[], from: number, to: number, indent: number): LinePair[] {
  const pairs: LinePair[] = [];
  for (let index = from; index <= to; index++) {
    const content = lines[index]?.content ?? '';
    if (indentOf(content) !== indent || isBlank(content)) continue;
    const rest = content.slice(indent);
    if (rest.startsWith('#') || rest.startsWith('- ') || rest === '-') continue;
    const key = keyOf(content);
    if (key === undefined) continue;
    const previous = pairs[pairs.length - 1];
    if (previous !== undefined) previous.last = index - 1;
    pairs.push({ key, first: index, last: to });
  }
  // Comments and blank lines at the mapping's own indentation after a pair's content sit between pairs.
  for (const pair of pairs) {
    while (pair.last > pair.first) {
      const content = lines[pair.last]?.content ?? '';
      if (isBlank(content) || (content.trimStart().startsWith('#') && indentOf(content) <= indent)) pair.last--;
      else break;
    }
  }
  return pairs;
}

/** The indentation of the first content line in lines[from..to], which is a nested mapping's own. */
function nestedIndent(lines: Line[], from: number, to: number): number | undefined {
  for (let index = from; index <= to; index++) {
    const content = lines[index]?.content ?? '';
    if (!isBlank(content) && !content.trimStart().startsWith('#')) return indentOf(content);
  }
  return undefined;
}

/**
 * The body's lines without token fields, every other byte kept; undefined when the token fields are not
 * laid out as plain block keys, and the caller then writes the skeleton out afresh.
 */
function linesWithoutTokenFields(block: BlockBody, body: Json): string | undefined {
  const { lines, pairs } = block;
  const drop = new Set<number>();
  const dropPair = (pair: LinePair) => {
    for (let i = pair.first; i <= pair.last; i++) drop.add(i);
  };
  for (const pair of pairs) {
    if (pair.key === 'token') dropPair(pair);
    if (pair.key !== 'auth-provider') continue;
    const providerIndent = nestedIndent(lines, pair.first + 1, pair.last);
    if (providerIndent === undefined) continue;
    const config = pairsAt(lines, pair.first + 1, pair.last, providerIndent).find((inner) => inner.key === 'config');
    if (config === undefined) continue;
    const configIndent = nestedIndent(lines, config.first + 1, config.last);
    if (configIndent === undefined) continue;
    for (const inner of pairsAt(lines, config.first + 1, config.last, configIndent)) {
      if ((LEGACY_TOKEN_KEYS as readonly string[]).includes(inner.key)) dropPair(inner);
    }
  }
  const text = joinLines(lines.filter((_, index) => !drop.has(index)));
  const expected = JSON.stringify(withoutTokenFields(body));
  return JSON.stringify(parseSkeleton(text) ?? null) === expected ? text : undefined;
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

function credentialLines(identity: AksIdentity, credentials: Credentials, indent: number, step: number): string[] {
  if (credentials.format === 'token') return [`${pad(indent)}token: ${quoteYaml(credentials.accessToken)}`];
  return [
    `${pad(indent)}auth-provider:`,
    `${pad(indent + step)}config:`,
    ...legacyConfig(identity, credentials).map(([key, value]) => `${pad(indent + 2 * step)}${key}: ${quoteYaml(value)}`),
    `${pad(indent + step)}name: azure`,
  ];
}

function extensionItemLines(skeleton: string, dashColumn: number, step: number): string[] {
  return [`${pad(dashColumn)}- extension:`, `${pad(dashColumn + 2 + step)}skeleton: ${quoteYaml(skeleton)}`, `${pad(dashColumn + 2)}name: ${EXTENSION_NAME}`];
}

function notAks(file: string, userName: string): KubeconfigError {
  return new KubeconfigError('notAks', file, `The user "${userName}" in ${file} is not an AKS Entra ID user (no azure auth-provider or kubelogin exec entry); AKS Sign-In leaves it alone.`);
}

function splice(text: string, start: number, end: number, replacement: string): string {
  return text.slice(0, start) + replacement + text.slice(end);
}

/** Text of `text` with `credentials` written into the user `userName`, in exactly one credential form. */
export function patchCredentials(text: string, file: string, userName: string, credentials: Credentials): string {
  const located = locateUser(text, file, userName);
  const identity = skeletonIdentity(located.body);
  if (identity === undefined) throw notAks(file, userName);
  const alreadyKept = storedSkeleton(located.body) !== undefined;
  const eol = dominantEol(text);
  const block = located.blockBody ? blockBody(text, located) : undefined;

  if (block === undefined) {
    const original = text.slice(located.bodyRange[0], located.bodyRange[1]);
    const body: Json = {};
    for (const [key, value] of Object.entries(located.body)) if (!CREDENTIAL_KEYS.has(key)) body[key] = value;
    Object.assign(body, credentialValue(identity, credentials));
    if (!alreadyKept) {
      const skeleton = hasTokenFields(located.body) ? JSON.stringify(withoutTokenFields(located.body)) : original;
      const others = Array.isArray(located.body['extensions']) ? located.body['extensions'] : [];
      body['extensions'] = [...others, { extension: { skeleton }, name: EXTENSION_NAME }];
    }
    return splice(text, located.bodyRange[0], located.bodyRange[1], JSON.stringify(body));
  }

  const { lines, bodyIndent, step, pairs } = block;
  const removed = new Set<number>();
  const insertBefore = new Map<number, string[]>();
  const insertAfter = new Map<number, string[]>();
  const credential = credentialLines(identity, credentials, bodyIndent, step);
  const owned = pairs.filter((pair) => CREDENTIAL_KEYS.has(pair.key));
  for (const pair of owned) for (let i = pair.first; i <= pair.last; i++) removed.add(i);
  const lastPair = pairs[pairs.length - 1];
  if (lastPair === undefined) throw notAks(file, userName);
  const firstOwned = owned[0];
  if (firstOwned !== undefined) insertBefore.set(firstOwned.first, credential);
  else insertAfter.set(lastPair.last, credential);

  if (!alreadyKept) {
    const regionText = joinLines(lines);
    const skeleton = hasTokenFields(located.body)
      ? (linesWithoutTokenFields(block, located.body) ?? blockYaml(withoutTokenFields(located.body), bodyIndent, step, located.indentlessSequences, eol))
      : regionText;
    const extensions = pairs.find((pair) => pair.key === 'extensions');
    const ours = { extension: { skeleton }, name: EXTENSION_NAME };
    if (extensions === undefined) {
      const dashColumn = located.indentlessSequences ? bodyIndent : bodyIndent + step;
      const added = [`${pad(bodyIndent)}extensions:`, ...extensionItemLines(skeleton, dashColumn, step)];
      insertAfter.set(lastPair.last, [...(insertAfter.get(lastPair.last) ?? []), ...added]);
    } else if (extensions.last > extensions.first) {
      const dashLine = lines.slice(extensions.first + 1, extensions.last + 1).find((line) => line.content.trimStart().startsWith('-'));
      const dashColumn = dashLine === undefined ? bodyIndent : indentOf(dashLine.content);
      insertAfter.set(extensions.last, [...(insertAfter.get(extensions.last) ?? []), ...extensionItemLines(skeleton, dashColumn, step)]);
    } else {
      // A one-line list such as `extensions: []` is rewritten as a block list holding the same items.
      const others = Array.isArray(located.body['extensions']) ? located.body['extensions'] : [];
      for (let i = extensions.first; i <= extensions.last; i++) removed.add(i);
      const added = blockYaml({ extensions: [...others, ours] }, bodyIndent, step, located.indentlessSequences, eol).split(eol).slice(0, -1);
      insertBefore.set(extensions.first, added);
    }
  }

  const output: Line[] = [];
  const regionEol = lines[lines.length - 1]?.eol || eol;
  lines.forEach((line, index) => {
    for (const content of insertBefore.get(index) ?? []) output.push({ content, eol });
    if (!removed.has(index)) output.push(line);
    for (const content of insertAfter.get(index) ?? []) output.push({ content, eol });
  });
  // The region's last line may be the file's last line without a line break; keep it that way.
  for (let i = 0; i < output.length - 1; i++) {
    const line = output[i];
    if (line !== undefined && line.eol === '') output[i] = { content: line.content, eol };
  }
  const last = output[output.length - 1];
  if (last !== undefined) output[output.length - 1] = { content: last.content, eol: lines[lines.length - 1]?.eol === '' ? '' : last.eol || regionEol };
  return splice(text, block.start, block.end, joinLines(output));
}

function reindent(skeleton: string, indent: number, eol: string): string {
  let lines = splitLines(skeleton);
  const first = lines.find((line) => !isBlank(line.content) && !line.content.trimStart().startsWith('#'));
  const shift = first === undefined ? 0 : indent - indentOf(first.content);
  const endings = new Set(lines.map((line) => line.eol).filter((ending) => ending !== ''));
  // A file kubectl rewrote may have changed its line endings since the skeleton was kept.
  const convert = endings.size === 1 && !endings.has(eol);
  if (shift === 0 && !convert) return skeleton;
  lines = lines.map((line) => ({
    content: isBlank(line.content) ? line.content : shift >= 0 ? pad(shift) + line.content : line.content.slice(Math.min(-shift, indentOf(line.content))),
    eol: convert && line.eol !== '' ? eol : line.eol,
  }));
  return joinLines(lines);
}

/** Text of `text` with the user `userName` back to its skeleton: what it was before we first wrote it. */
export function patchClear(text: string, file: string, userName: string): string {
  const located = locateUser(text, file, userName);
  if (skeletonIdentity(located.body) === undefined) throw notAks(file, userName);
  const kept = storedSkeleton(located.body);
  if (kept === undefined && !hasTokenFields(located.body)) return text;
  const eol = dominantEol(text);
  const block = located.blockBody ? blockBody(text, located) : undefined;
  if (block === undefined) {
    const restored =
      kept !== undefined && kept.trimStart().startsWith('{')
        ? kept
        : JSON.stringify(kept !== undefined ? (parseSkeleton(kept) ?? {}) : withoutTokenFields(located.body));
    return splice(text, located.bodyRange[0], located.bodyRange[1], restored);
  }
  const restored =
    kept !== undefined
      ? reindent(kept, block.bodyIndent, eol)
      : (linesWithoutTokenFields(block, located.body) ?? blockYaml(withoutTokenFields(located.body), block.bodyIndent, block.step, located.indentlessSequences, eol));
  return splice(text, block.start, block.end, restored);
}
