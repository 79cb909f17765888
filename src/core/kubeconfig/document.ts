// How the engine reads YAML, in one place, so the locator, the patcher and the verifier all see a
// kubeconfig the way kubectl does: merge keys (`<<: *base`) expanded, a repeated key taken as its last
// value (client-go does both), and aliases expanded only up to yaml's limit, so an alias bomb is refused
// instead of exhausting memory.
import { isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type ParseOptions, type DocumentOptions, type SchemaOptions, type ToJSOptions } from 'yaml';

export type Json = Record<string, unknown>;

export const PARSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  uniqueKeys: false,
  prettyErrors: false,
  keepSourceTokens: true,
  // yaml would print its warnings (a collection used as a key, say) to the extension host's console.
  logLevel: 'error',
};

const TO_JS: ToJSOptions = { maxAliasCount: 1000 };

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseYaml(text: string): Document.Parsed {
  return parseDocument(text, PARSE_OPTIONS);
}

/** The document's data, or undefined when it has errors or expands too many aliases. */
export function documentData(document: Document.Parsed): { data: unknown } | undefined {
  if (document.errors.length > 0) return undefined;
  try {
    return { data: document.toJS(TO_JS) };
  } catch {
    return undefined;
  }
}

/** Why a document without syntax errors still has no data: an alias to nothing, or too many aliases. */
export function dataProblem(document: Document.Parsed): string | undefined {
  if (document.errors.length > 0) return undefined;
  try {
    document.toJS(TO_JS);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return /unresolved|not found|before/i.test(message) ? 'an alias would point at nothing' : 'it would expand too many aliases';
  }
}

/** A node's data, or undefined when it expands too many aliases. */
export function nodeData(node: unknown, document: Document.Parsed): { data: unknown } | undefined {
  if (node === null || node === undefined) return { data: null };
  try {
    return { data: (node as Node).toJS(document, TO_JS) };
  } catch {
    return undefined;
  }
}

/** Structural equality of parsed YAML data (mapping key order does not count, as in YAML). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    return ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((value, index) => deepEqual(value, b[index]));
  }
  if (a instanceof Map || b instanceof Map || a instanceof Set || b instanceof Set) {
    const entries = (value: unknown) => [...(value as Map<unknown, unknown>).entries()];
    return (a as object).constructor === (b as object).constructor && deepEqual(entries(a), entries(b));
  }
  const ka = Object.keys(a as Json);
  const kb = Object.keys(b as Json);
  if (ka.length !== kb.length) return false;
  return ka.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual((a as Json)[key], (b as Json)[key]));
}

/** The string a scalar key stands for; undefined for keys that are collections or aliases. */
export function keyName(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  return undefined;
}

/** A key that appears twice in one mapping, anywhere under `node`. */
export function repeatedKey(node: unknown): string | undefined {
  let found: string | undefined;
  visit(node as Node, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const name = keyName(pair.key) ?? JSON.stringify(pair.key);
        if (seen.has(name)) {
          found = name;
          return visit.BREAK;
        }
        seen.add(name);
      }
      return undefined;
    },
  });
  return found;
}

/** Whether anything under `node` is an alias to an anchor not defined under `node` itself. */
export function hasOutsideAlias(node: unknown): boolean {
  const defined = new Set(anchorsUnder(node).map((anchor) => anchor.name));
  let found = false;
  visit(node as Node, {
    Alias(_, alias) {
      if (defined.has(alias.source)) return undefined;
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}

/** Anchors on `node` or anything under it, with the source range of the node each one names. */
export function anchorsUnder(node: unknown): Array<{ name: string; range: [number, number] }> {
  const anchors: Array<{ name: string; range: [number, number] }> = [];
  const note = (n: { anchor?: string; range?: [number, number, number] | null }) => {
    if (n.anchor !== undefined && n.range != null) anchors.push({ name: n.anchor, range: [n.range[0], n.range[1]] });
  };
  if (node !== null && typeof node === 'object') note(node as { anchor?: string; range?: [number, number, number] });
  visit(node as Node, {
    Scalar(_, n) {
      note(n);
    },
    Map(_, n) {
      note(n);
    },
    Seq(_, n) {
      note(n);
    },
  });
  return anchors;
}

/** Whether the text uses `*name` as an alias anywhere (conservatively: also inside strings). */
export function mentionsAlias(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\*${escaped}(?=[\\s,\\]}]|$)`).test(text);
}

/** The items of a top-level list (clusters, contexts, users), or undefined when it is missing or not a list. */
export function topLevelList(document: Document.Parsed, key: string): unknown[] | undefined {
  if (!isMap(document.contents)) return undefined;
  const value = document.contents.get(key, true);
  return isSeq(value) ? value.items : undefined;
}
