// The plan for `current-context`: replace only its value (keeping a comment after it, an anchor or tag
// before it, and every other byte), or add the key where kubectl would put it when the file has none.
// The value's exact extent comes from parsing the key's own lines (or the whole file when the scan
// cannot vouch for it), so a value continued on the next line, quoted or block-styled is replaced whole.
import { isMap, isScalar, isAlias, type Document, type Pair } from 'yaml';
import { KubeconfigError } from './errors';
import { anchorsUnder, isObject, keyName, mentionsAlias, parseYaml, type Json } from './document';
import type { KubeconfigText } from './entries';
import { unverifiable } from './locate-user';
import { quoteYaml } from './patch';
import { dominantEol, nextLineStart, type Edit } from './text';
import type { DocumentPlan } from './verify';

const KEY = 'current-context';
const YAML_WORDS = /^(?:true|false|yes|no|on|off|null|~|y|n)$/i;

/** The context name as a YAML scalar: plain when that is unambiguous, double-quoted otherwise. */
export function yamlName(name: string, json: boolean): string {
  return !json && /^[A-Za-z_][\w./@-]*$/.test(name) && !YAML_WORDS.test(name) ? name : quoteYaml(name);
}

function expected(contextName: string) {
  return (old: Json): Json => ({ ...old, [KEY]: contextName });
}

function eolOfLine(text: string, offset: number): string {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? dominantEol(text) : newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}

/** The edit that replaces the value of `pair` (parsed from `source`, which starts at `base`). */
function valueEdit(model: KubeconfigText, document: Document.Parsed, pair: Pair, source: string, base: number, contextName: string, json: boolean): Edit {
  const { text, file } = model;
  const value = pair.value as unknown;
  for (const anchor of anchorsUnder(value)) {
    if (mentionsAlias(text, anchor.name)) {
      throw unverifiable(file, `the current-context value carries an anchor (&${anchor.name}) that is used elsewhere (*${anchor.name}), which would then change too`, `Replace *${anchor.name} with the value it stands for`);
    }
  }
  const name = yamlName(contextName, json);
  if (value !== null && (isScalar(value) || isAlias(value)) && value.range != null) {
    let [start, end] = [value.range[0], value.range[1]];
    const raw = source.slice(start, end);
    // A block scalar's range holds its line breaks; the replacement keeps the line's own.
    if (isScalar(value) && (value.type === 'BLOCK_LITERAL' || value.type === 'BLOCK_FOLDED')) {
      const trimmed = raw.replace(/(?:\r?\n)+$/, '');
      end = start + trimmed.length;
      const breaks = raw.slice(trimmed.length);
      return { start: base + start, end: base + end + breaks.length, text: `${name}${breaks.length > 0 ? eolOfLine(text, base + start) : ''}` };
    }
    if (isScalar(value) && value.source === null && raw === '' && start === end) {
      // `current-context:` with nothing after it: the value goes after the colon.
      return { start: base + start, end: base + end, text: source[start - 1] === ' ' ? name : ` ${name}` };
    }
    void document;
    return { start: base + start, end: base + end, text: name };
  }
  throw unverifiable(file, 'the current-context value is not a plain value', 'Set it with kubectl config use-context');
}

function insertion(model: KubeconfigText, contextName: string): { edit: Edit; segment?: { start: number; end: number } } {
  const { text } = model;
  const scan = model.scan();
  if (scan.vouched) {
    // kubectl keeps keys sorted, so current-context goes right before kind, preferences or users.
    const later = scan.keys.find((key) => key.key === 'kind' || key.key === 'preferences' || key.key === 'users');
    const at = later?.start ?? text.length;
    const eol = eolOfLine(text, Math.max(0, at - 1));
    const line = `${KEY}: ${yamlName(contextName, false)}${eol}`;
    const open = at === text.length && text.length > 0 && !text.endsWith('\n');
    return { edit: { start: at, end: at, text: open ? eol + line : line }, segment: { start: at, end: at } };
  }
  const { document } = model.full();
  const root = document.contents;
  if (root === null || root === undefined) {
    const eol = dominantEol(text);
    const line = `${KEY}: ${yamlName(contextName, false)}${eol}`;
    return { edit: { start: text.length, end: text.length, text: (text === '' || text.endsWith('\n') ? '' : eol) + line } };
  }
  if (!isMap(root) || root.range == null) throw new KubeconfigError('notKubeconfig', model.file, `The file ${model.file} is not a kubeconfig. Choose a kubeconfig file.`);
  if (root.flow) {
    const open = root.range[0];
    return { edit: { start: open + 1, end: open + 1, text: `${JSON.stringify(KEY)}: ${quoteYaml(contextName)}, ` } };
  }
  // A block mapping the scan could not vouch for (a second document, a `...` marker): the new line goes
  // before a key that starts a line (kind, preferences or users first, as kubectl orders them), else
  // right after the mapping's own content, inside the first document.
  const lineKeys = root.items
    .map((pair) => ({ name: keyName(pair.key), at: (pair.key as { range?: [number, number, number] | null } | null)?.range?.[0] }))
    .filter((key): key is { name: string | undefined; at: number } => key.at !== undefined && (key.at === 0 || text[key.at - 1] === '\n' || (key.at === 1 && text[0] === '\ufeff')));
  const before = lineKeys.find((key) => key.name === 'kind' || key.name === 'preferences' || key.name === 'users') ?? lineKeys[0];
  if (before !== undefined) {
    const eol = eolOfLine(text, before.at);
    return { edit: { start: before.at, end: before.at, text: `${KEY}: ${yamlName(contextName, false)}${eol}` } };
  }
  const end = root.range[1];
  const at = text[end - 1] === '\n' ? end : nextLineStart(text, end);
  const eol = eolOfLine(text, Math.max(0, end - 1));
  const line = `${KEY}: ${yamlName(contextName, false)}${eol}`;
  return { edit: { start: at, end: at, text: (at > 0 && text[at - 1] !== '\n' ? eol : '') + line } };
}

/** The plan that points kubectl at `contextName`, changing nothing else in the file. */
export function planCurrentContext(model: KubeconfigText, contextName: string): DocumentPlan {
  const { text, file } = model;
  const what = `current-context "${contextName}"`;
  const scan = model.scan();
  if (scan.vouched) {
    const keys = scan.keys.filter((key) => key.key === KEY);
    if (keys.length > 1) throw unverifiable(file, 'the file sets current-context more than once, and kubectl uses only the last', 'Remove the extra lines');
    const key = keys[0];
    if (key !== undefined) {
      const source = text.slice(key.start, key.end);
      const document = parseYaml(source);
      const root = document.contents;
      if (document.errors.length === 0 && isMap(root) && root.items.length === 1 && keyName(root.items[0]!.key) === KEY) {
        const edit = valueEdit(model, document, root.items[0]!, source, key.start, contextName, false);
        return { edits: [edit], expected: expected(contextName), segment: { start: key.start, end: key.end }, what };
      }
    } else {
      const { edit, segment } = insertion(model, contextName);
      return { edits: [edit], expected: expected(contextName), ...(segment ? { segment } : {}), what };
    }
  }
  const { document, data } = model.full();
  const root = document.contents;
  if (!isMap(root)) {
    const { edit } = insertion(model, contextName);
    return { edits: [edit], expected: expected(contextName), what };
  }
  const pairs = root.items.filter((pair) => keyName(pair.key) === KEY);
  if (pairs.length > 1) throw unverifiable(file, 'the file sets current-context more than once, and kubectl uses only the last', 'Remove the extra lines');
  if (pairs.length === 0 || !isObject(data)) {
    const { edit } = insertion(model, contextName);
    return { edits: [edit], expected: expected(contextName), what };
  }
  const json = root.flow === true;
  return { edits: [valueEdit(model, document, pairs[0]!, text, 0, contextName, json)], expected: expected(contextName), what };
}
