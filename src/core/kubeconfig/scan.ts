// A linear scan of a kubeconfig's text that says, without parsing the whole file, where its top-level
// keys and the items of its `clusters`, `contexts` and `users` lists begin and end, and each item's name
// when one line says it plainly. Files that `az aks get-credentials` merges reach megabytes, and a full
// YAML parse of them costs more than kubectl's own rewrite, so the writer locates and checks only the
// entry it owns; this scan is what lets it say that the entry is self-contained.
//
// The scan follows every construct that can carry a line over into the next one (quoted scalars, flow
// collections, block scalars) so a line is called a boundary only when it really starts fresh block
// content. Whatever it does not follow for certain (document markers, directives, tabs as indentation,
// complex keys, a root that is not a block mapping, lone carriage returns, ...) makes it give up, and the
// caller then parses the whole file. It is conservative by construction, and the differential fuzz in
// the fault suite checks it against the `yaml` parser and kubectl.

export interface ScannedItem {
  /** Offset of the line that holds the item's `-`. */
  start: number;
  /** Offset of the first line after the item: the next item, the next top-level key, or the end. */
  end: number;
  /** The item's name when a line of its own says it plainly, else undefined: parse the item to know. */
  name: string | undefined;
}

export interface ScannedList {
  key: string;
  /** Column of the list's dashes: 0 for kubectl's indentless lists. */
  indent: number;
  items: ScannedItem[];
}

export interface ScannedKey {
  key: string;
  /** Offset of the key's line, and of the first line after its value. */
  start: number;
  end: number;
}

export type Scan =
  | {
      vouched: true;
      keys: ScannedKey[];
      /** A list key whose value is a block sequence; 'other' when its value is anything else. */
      lists: Map<string, ScannedList | 'other'>;
      /** Where the first document's content ends (the text's length: a vouched file has one document). */
      end: number;
    }
  | { vouched: false; reason: string };

const LISTS = new Set(['clusters', 'contexts', 'users']);
const YAML_WORD = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|<<)$/;
const SURE_PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.\-/@]*$/;

const SPACE = 32;
const TAB = 9;

class Unsure extends Error {}

function unsure(reason: string): never {
  throw new Unsure(reason);
}

function isSepOrEnd(text: string, at: number, end: number): boolean {
  if (at >= end) return true;
  const c = text.charCodeAt(at);
  return c === SPACE || c === TAB || c === 13;
}

function skipSpaces(text: string, at: number, end: number): number {
  while (at < end) {
    const c = text.charCodeAt(at);
    if (c !== SPACE && c !== TAB) break;
    at++;
  }
  return at;
}

/** Offset just past the closing quote of a quoted scalar starting at `at`, or -1 when it does not close before `end`. */
function closeQuote(text: string, at: number, end: number, quote: string): number {
  let i = at;
  if (quote === '"') {
    while (i < end) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '"') return i + 1;
      else i++;
    }
    return -1;
  }
  while (i < end) {
    const q = text.indexOf("'", i);
    if (q === -1 || q >= end) return -1;
    if (text[q + 1] === "'") i = q + 2;
    else return q + 1;
  }
  return -1;
}

interface FlowState {
  depth: number;
  /** Inside a quoted scalar within the flow collection. */
  quote: string | undefined;
  /** Whether the next character may start a token (after `[`, `{`, `,`, `:` or `?`). */
  tokenStart: boolean;
}

/** Scans flow content from `at`; returns the offset just past the closing bracket, or -1 when the line ends first. */
function scanFlow(text: string, at: number, end: number, state: FlowState): number {
  let i = at;
  let previousSpace = true;
  while (i < end) {
    if (state.quote !== undefined) {
      const closed = closeQuote(text, i, end, state.quote);
      if (closed === -1) return -1;
      state.quote = undefined;
      state.tokenStart = false;
      i = closed;
      previousSpace = false;
      continue;
    }
    const c = text[i] as string;
    if (c === ' ' || c === '\t') {
      previousSpace = true;
      i++;
      continue;
    }
    if (c === '#' && previousSpace) return -1;
    previousSpace = false;
    if (c === '[' || c === '{') {
      state.depth++;
      state.tokenStart = true;
    } else if (c === ']' || c === '}') {
      state.depth--;
      state.tokenStart = false;
      if (state.depth === 0) return i + 1;
    } else if (c === ',' || c === ':' || c === '?') {
      state.tokenStart = true;
    } else if ((c === '"' || c === "'") && state.tokenStart) {
      state.quote = c;
    } else if ((c === '&' || c === '*' || c === '!') && state.tokenStart) {
      // Properties and aliases in a flow collection: one token each, up to a space or a flow indicator.
      let j = i + 1;
      while (j < end && !' \t,[]{}'.includes(text[j] as string)) j++;
      i = j;
      state.tokenStart = c !== '*';
      continue;
    } else if ((c === '|' || c === '>' || c === '@' || c === '`' || c === '%') && state.tokenStart) {
      unsure('a flow collection with reserved characters');
    } else {
      state.tokenStart = false;
    }
    i++;
  }
  return -1;
}

type Mode =
  | { kind: 'block' }
  | { kind: 'quote'; quote: string }
  | { kind: 'flow'; state: FlowState }
  | { kind: 'blockScalar'; parent: number; indent: number | undefined; leadingBlank: number };

interface LineFacts {
  /** The first key on the line and its column, when the line starts (after any dashes) with an implicit key. */
  key?: string;
  keyColumn?: number;
  /** Whether the line starts with a sequence dash. */
  dash: boolean;
  /** Column of the first key or node after the dashes. */
  afterDashColumn?: number;
  /** The value after the first key, when it is a scalar that ends on this line: its raw text. */
  scalar?: string;
  /** Whether anything but a comment follows the first key's `:` on the line. */
  inlineValue: boolean;
  /** An anchor or tag, an alias, or an explicit key was on the line. */
  properties?: boolean;
  alias?: boolean;
  explicit?: boolean;
}

/** The end of an anchor, alias or tag token starting at `at`: the next space, or the end of the line. */
function propertyEnd(text: string, at: number, end: number): number {
  let i = at + 1;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === 13) break;
    i++;
  }
  return i;
}

/** Checks what follows a closed scalar or collection on a line: only a comment or the end may. */
function expectLineEnd(text: string, at: number, end: number, what: string): void {
  const i = skipSpaces(text, at, end);
  if (i >= end) return;
  if (text[i] === '#' && i > at) return;
  unsure(`text after ${what} on one line`);
}

/**
 * Lexes one line in block context from its first content character, filling `facts`; returns the mode
 * the next line starts in.
 */
function lexBlockLine(text: string, lineStart: number, first: number, end: number, facts: LineFacts): Mode {
  let i = first;
  let parent = -1;
  let keys = 0;
  let sawDash = false;
  while (i < end) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') return { kind: 'block' };
    const column = i - lineStart;
    if (c === '-' && isSepOrEnd(text, i + 1, end)) {
      if (keys > 0) unsure('a sequence after a key on the same line');
      if (text.charCodeAt(i + 1) === TAB) unsure('a tab after a sequence dash');
      facts.dash = true;
      sawDash = true;
      parent = column;
      i++;
      continue;
    }
    if (sawDash && facts.afterDashColumn === undefined) facts.afterDashColumn = column;
    if ((c === '?' || c === ':') && isSepOrEnd(text, i + 1, end)) {
      // An explicit key (`? key`) or its value (`: value`): an entry of a mapping at this column. The
      // key it names is not read off the line, so a name given this way makes the item be parsed.
      if (keys > 0 || column === 0) unsure('an explicit (complex) mapping key');
      facts.explicit = true;
      parent = column;
      i++;
      continue;
    }
    if (c === '&' || c === '!') {
      // An anchor or a tag: properties of the node that follows, here or on the next lines.
      i = propertyEnd(text, i, end);
      if (i < end && !isSepOrEnd(text, i, end)) unsure('an anchor or tag the scan cannot read');
      facts.properties = true;
      continue;
    }
    if (c === '*') {
      // An alias is a whole node.
      const after = skipSpaces(text, propertyEnd(text, i, end), end);
      if (text[after] === ':' && isSepOrEnd(text, after + 1, end)) unsure('an alias as a key');
      if (keys > 0) facts.inlineValue = true;
      facts.alias = true;
      expectLineEnd(text, after, end, 'an alias');
      return { kind: 'block' };
    }
    if (c === '@' || c === '`' || c === '%' || c === ',' || c === ']' || c === '}') unsure('a character no plain scalar may start with');
    if (c === '|' || c === '>') {
      if (parent < 0) unsure('a block scalar on a line of its own');
      let j = i + 1;
      let indent: number | undefined;
      for (let k = 0; k < 2 && j < end; k++) {
        const d = text[j] as string;
        if (d >= '1' && d <= '9' && indent === undefined) indent = Number(d);
        else if ((d === '+' || d === '-') && k < 2) {
          /* chomping */
        } else break;
        j++;
      }
      if (j < end && !isSepOrEnd(text, j, end)) unsure('a block scalar header');
      expectLineEnd(text, j, end, 'a block scalar header');
      if (keys > 0) facts.inlineValue = true;
      return { kind: 'blockScalar', parent, indent: indent === undefined ? undefined : parent + indent, leadingBlank: 0 };
    }
    if (c === '"' || c === "'") {
      const closed = closeQuote(text, i + 1, end, c);
      if (keys > 0) facts.inlineValue = true;
      if (closed === -1) {
        if (keys === 0) unsure('a multi-line quoted key');
        return { kind: 'quote', quote: c };
      }
      const after = skipSpaces(text, closed, end);
      if (text[after] === ':' && isSepOrEnd(text, after + 1, end)) {
        if (keys > 0) unsure('two keys on one line');
        keys++;
        parent = column;
        if (facts.key === undefined) {
          const key = quotedValue(text.slice(i, closed));
          if (key === undefined) unsure('a quoted key the scan cannot read');
          facts.key = key;
          facts.keyColumn = column;
        }
        i = after + 1;
        continue;
      }
      if (keys > 0 && facts.scalar === undefined && keys === 1) facts.scalar = text.slice(i, closed);
      expectLineEnd(text, closed, end, 'a quoted scalar');
      return { kind: 'block' };
    }
    if (c === '[' || c === '{') {
      if (keys > 0) facts.inlineValue = true;
      const state: FlowState = { depth: 0, quote: undefined, tokenStart: true };
      const closed = scanFlow(text, i, end, state);
      if (closed === -1) {
        if (keys === 0) unsure('a multi-line flow collection that is not a value');
        return { kind: 'flow', state };
      }
      const after = skipSpaces(text, closed, end);
      if (text[after] === ':' && isSepOrEnd(text, after + 1, end)) unsure('a flow collection as a key');
      expectLineEnd(text, closed, end, 'a flow collection');
      return { kind: 'block' };
    }
    // A plain scalar: up to a key's `:`, a comment, or the end of the line.
    const stop = plainEnd(text, i, end);
    if (stop < end && text[stop] === ':') {
      if (keys > 0) unsure('two keys on one line');
      keys++;
      parent = column;
      if (facts.key === undefined) {
        facts.key = trimEnd(text, i, stop);
        facts.keyColumn = column;
      }
      i = stop + 1;
      continue;
    }
    if (keys > 0) {
      facts.inlineValue = true;
      if (keys === 1 && facts.scalar === undefined) facts.scalar = trimEnd(text, i, stop);
    }
    return { kind: 'block' };
  }
  return { kind: 'block' };
}

/**
 * The next occurrence of a character at or after `at`, remembered so that a file with none of them
 * further on is searched once, not once a line.
 */
class NextChar {
  private from = Infinity;
  private found = -1;
  constructor(
    private readonly text: string,
    private readonly char: string,
  ) {}

  at(at: number): number {
    if (at >= this.from && (this.found === -1 || this.found >= at)) return this.found;
    this.from = at;
    this.found = this.text.indexOf(this.char, at);
    return this.found;
  }
}

let colons: NextChar | undefined;
let hashes: NextChar | undefined;

/** Where a plain scalar starting at `at` stops on its line: at a key's `:`, at a comment's `#`, or at `end`. */
function plainEnd(text: string, at: number, end: number): number {
  let colon = colons!.at(at);
  while (colon !== -1 && colon < end && !isSepOrEnd(text, colon + 1, end)) colon = colons!.at(colon + 1);
  const limit = colon === -1 || colon >= end ? end : colon;
  let hash = hashes!.at(at);
  while (hash !== -1 && hash < limit) {
    const before = text.charCodeAt(hash - 1);
    if (before === SPACE || before === TAB) return hash;
    hash = hashes!.at(hash + 1);
  }
  return limit;
}

function trimEnd(text: string, from: number, to: number): string {
  while (to > from) {
    const c = text.charCodeAt(to - 1);
    if (c !== SPACE && c !== TAB) break;
    to--;
  }
  return text.slice(from, to);
}

/** The value of a quoted scalar written on one line, when it surely means that string. */
function quotedValue(raw: string): string | undefined {
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  // JSON's escapes are a subset of YAML's double-quoted escapes, with the same meaning.
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The string a one-line name value surely is, or undefined when only a parse can say. */
function sureName(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.startsWith('"') || raw.startsWith("'")) return quotedValue(raw);
  return SURE_PLAIN_NAME.test(raw) && !YAML_WORD.test(raw) ? raw : undefined;
}

/** Scans `text` (a whole kubeconfig); see the module comment. */
export function scanKubeconfig(text: string): Scan {
  colons = new NextChar(text, ':');
  hashes = new NextChar(text, '#');
  try {
    return scan(text);
  } catch (error) {
    if (error instanceof Unsure) return { vouched: false, reason: error.message };
    throw error;
  } finally {
    colons = undefined;
    hashes = undefined;
  }
}

function scan(text: string): Scan {
  for (let cr = text.indexOf('\r'); cr !== -1; cr = text.indexOf('\r', cr + 2)) {
    if (text.charCodeAt(cr + 1) !== 10) unsure('a carriage return that is not part of CRLF');
  }
  const keys: ScannedKey[] = [];
  const lists = new Map<string, ScannedList | 'other'>();
  let mode: Mode = { kind: 'block' };
  let currentKey: ScannedKey | undefined;
  let list: ScannedList | undefined;
  let listStarted = false;
  let item: (ScannedItem & { keyIndent: number | undefined; names: number }) | undefined;
  let nameToCheck: number | undefined;
  let currentInline = false;

  const noteKey = (line: LineFacts, lineMode: Mode) => {
    if (item === undefined || line.key !== 'name') return;
    item.names++;
    item.name = lineMode.kind === 'block' ? sureName(line.scalar) : undefined;
    if (item.name === undefined) item.names = 2;
    nameToCheck = line.keyColumn;
  };

  const closeItem = (at: number) => {
    if (item !== undefined) {
      item.end = at;
      list?.items.push({ start: item.start, end: item.end, name: item.names === 1 ? item.name : undefined });
    }
    item = undefined;
    nameToCheck = undefined;
  };
  const closeKey = (at: number) => {
    closeItem(at);
    if (currentKey !== undefined) currentKey.end = at;
    currentKey = undefined;
    list = undefined;
  };

  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const bomOffset = position;
  while (position < text.length) {
    const newline = text.indexOf('\n', position);
    const next = newline === -1 ? text.length : newline + 1;
    let end = newline === -1 ? text.length : newline;
    if (end > position && text.charCodeAt(end - 1) === 13) end--;
    const lineStart = position === bomOffset ? bomOffset : position;
    position = next;

    const lead = text.charCodeAt(lineStart);
    if ((lead === 45 || lead === 46) && end - lineStart >= 3 && (text.startsWith('---', lineStart) || text.startsWith('...', lineStart)) && isSepOrEnd(text, lineStart + 3, end)) {
      unsure('a document marker (--- or ...)');
    }
    let first = lineStart;
    while (first < end && text.charCodeAt(first) === SPACE) first++;
    const indent = first - lineStart;
    const blank = skipSpaces(text, first, end) >= end;

    if (mode.kind === 'blockScalar') {
      if (blank) {
        if (mode.indent === undefined) mode.leadingBlank = Math.max(mode.leadingBlank, end - lineStart);
        continue;
      }
      if (mode.indent === undefined) {
        if (indent > mode.parent) {
          if (mode.leadingBlank > indent) unsure('a block scalar whose leading blank lines are indented deeper than its text');
          mode.indent = indent;
          continue;
        }
      } else if (indent >= mode.indent) continue;
      else if (indent > mode.parent) unsure('a block scalar line indented less than the scalar');
      mode = { kind: 'block' };
    }
    if (mode.kind === 'quote') {
      const closed = closeQuote(text, lineStart, end, mode.quote);
      if (closed === -1) continue;
      expectLineEnd(text, closed, end, 'a multi-line quoted scalar');
      mode = { kind: 'block' };
      continue;
    }
    if (mode.kind === 'flow') {
      const closed = scanFlow(text, lineStart, end, mode.state);
      if (closed === -1) continue;
      const after = skipSpaces(text, closed, end);
      if (text[after] === ':' && isSepOrEnd(text, after + 1, end)) unsure('a flow collection as a key');
      expectLineEnd(text, closed, end, 'a multi-line flow collection');
      mode = { kind: 'block' };
      continue;
    }

    // Block context at the start of a line.
    if (blank) continue;
    if (first < end && text.charCodeAt(first) === TAB) unsure('a tab in indentation');
    if (text.charCodeAt(lineStart) === TAB) unsure('a tab in indentation');
    if (text[first] === '#') continue;

    const facts: LineFacts = { dash: false, inlineValue: false };
    const nextMode = lexBlockLine(text, lineStart, first, end, facts);

    if (nameToCheck !== undefined && item !== undefined) {
      // A deeper line after `name: x` continues the plain scalar: only a parse knows the name then.
      if (indent > nameToCheck) item.names = 2;
      nameToCheck = undefined;
    }

    if (indent === 0 && !facts.dash) {
      if (facts.key === undefined || facts.keyColumn !== 0) unsure('a top-level line that is not a key');
      closeKey(lineStart);
      currentKey = { key: facts.key, start: lineStart, end: text.length };
      currentInline = facts.inlineValue;
      keys.push(currentKey);
      if (LISTS.has(facts.key)) {
        if (lists.has(facts.key)) unsure(`the key ${facts.key} twice`);
        if (facts.inlineValue) lists.set(facts.key, 'other');
        else {
          list = { key: facts.key, indent: -1, items: [] };
          lists.set(facts.key, list);
          listStarted = false;
        }
      }
      mode = nextMode;
      continue;
    }
    if (currentKey === undefined) unsure('content before the first top-level key');
    if (list !== undefined) {
      if (!listStarted) {
        listStarted = true;
        if (!facts.dash) {
          lists.set(list.key, 'other');
          list = undefined;
        } else list.indent = indent;
      }
      if (list !== undefined) {
        if (indent < list.indent) unsure('a line indented less than its list');
        if (indent === list.indent) {
          if (!facts.dash) unsure('a line at a list’s indentation that is not an item');
          closeItem(lineStart);
          item = { start: lineStart, end: text.length, name: undefined, keyIndent: facts.afterDashColumn, names: 0 };
          if (facts.key !== undefined && facts.keyColumn === facts.afterDashColumn) noteKey(facts, nextMode);
        } else if (item !== undefined) {
          if (item.keyIndent === undefined) item.keyIndent = indent;
          if (indent === item.keyIndent && !facts.dash && facts.key !== undefined && facts.keyColumn === indent) noteKey(facts, nextMode);
        }
      }
    } else if (currentInline && indent === 0) {
      unsure('a sequence under a key that already has a value');
    }
    mode = nextMode;

  }
  if (mode.kind === 'quote' || mode.kind === 'flow') unsure('a quoted scalar or flow collection that never closes');
  closeKey(text.length);
  if (keys.length === 0) unsure('no top-level mapping');
  return { vouched: true, keys, lists, end: text.length };
}

/**
 * The mode a piece of block text (a list item we produced or kept) ends in: whether anything in it
 * stays open past its last line. Used on patched entries, which the whole-file scan never saw.
 */
export function scanFragment(fragment: string): { vouched: true } | { vouched: false; reason: string } {
  // Wrapped as the value of a top-level list, which is where the fragments we check live.
  const result = scanKubeconfig(`users:\n${fragment.startsWith('\ufeff') ? fragment.slice(1) : fragment}`);
  return result.vouched ? { vouched: true } : result;
}
