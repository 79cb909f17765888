// One kubeconfig's text as the writers see it: the fast scan when it can vouch for the file's layout, the
// full parse when it cannot (or when a writer needs all of the data), and the named entries of its three
// lists either way. Parsing is done at most once per text, and only as far as asked.
import { isMap, isSeq, type Document } from 'yaml';
import { KubeconfigError } from './errors';
import { documentData, isObject, parseYaml, type Json } from './document';
import { scanKubeconfig, type Scan, type ScannedList } from './scan';
import { lineNumberAt } from './text';

export type ListName = 'clusters' | 'contexts' | 'users';
export const LIST_NAMES: readonly ListName[] = ['clusters', 'contexts', 'users'];
const SINGULAR: Record<ListName, string> = { clusters: 'cluster', contexts: 'context', users: 'user' };

const KUBECONFIG_KEYS = ['apiVersion', 'kind', 'clusters', 'contexts', 'users', 'current-context', 'preferences'];

export function malformed(file: string, text: string, offset: number, code: string): KubeconfigError {
  return new KubeconfigError('malformed', file, `The kubeconfig ${file} is not valid YAML (line ${lineNumberAt(text, offset)}: ${code}). Fix the file by hand; it was left untouched.`);
}

/** Checks parsed kubeconfig data the way kubectl would before using it; returns the top-level mapping. */
export function kubeconfigData(value: unknown, file: string): Json {
  // kubectl treats an empty file as an empty config.
  if (value === null || value === undefined) return {};
  if (!isObject(value) || !KUBECONFIG_KEYS.some((key) => key in value) || (value['kind'] !== undefined && value['kind'] !== 'Config')) {
    throw new KubeconfigError('notKubeconfig', file, `The file ${file} is not a kubeconfig (no kind: Config, clusters, contexts or users). Choose a kubeconfig file.`);
  }
  for (const list of LIST_NAMES) {
    const entries = value[list];
    if (entries !== undefined && entries !== null && !Array.isArray(entries)) {
      throw new KubeconfigError('notKubeconfig', file, `The kubeconfig ${file} has "${list}" that is not a list. Fix the file by hand; it was left untouched.`);
    }
  }
  return value;
}

/** Parses a whole kubeconfig; throws a KubeconfigError when it is not YAML or not a kubeconfig. */
export function parseWhole(text: string, file: string): { document: Document.Parsed; data: Json } {
  const document = parseYaml(text);
  const error = document.errors[0];
  if (error !== undefined) throw malformed(file, text, error.pos[0], error.code);
  const parsed = documentData(document);
  if (parsed === undefined) {
    // yaml refuses to expand aliases past its limit (a "billion laughs" file), which would exhaust memory.
    throw new KubeconfigError('malformed', file, `The kubeconfig ${file} uses too many YAML aliases to be read safely. Fix the file by hand; it was left untouched.`);
  }
  return { document, data: kubeconfigData(parsed.data, file) };
}

/** How client-go names an entry for its duplicate check: a missing name is the empty name. */
function entryName(entry: unknown): string | undefined {
  if (!isObject(entry)) return undefined;
  const name = entry['name'];
  if (name === undefined || name === null) return '';
  return typeof name === 'string' ? name : undefined;
}

export function duplicateError(file: string, list: ListName, name: string): KubeconfigError {
  return new KubeconfigError(
    'duplicateName',
    file,
    `The kubeconfig ${file} defines the ${SINGULAR[list]} "${name}" more than once, and kubectl refuses such a file ("duplicate name"). Remove or rename the duplicate by hand; the file was left untouched.`,
  );
}

export interface ListEntry {
  name: string | undefined;
  /** Offsets of the item's lines in the whole text, when the scan found them. */
  start?: number;
  end?: number;
}

export class KubeconfigText {
  private scanned: Scan | undefined;
  private whole: { document: Document.Parsed; data: Json } | undefined;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  scan(): Scan {
    this.scanned ??= scanKubeconfig(this.text);
    return this.scanned;
  }

  /** The whole file parsed; throws malformed or notKubeconfig. */
  full(): { document: Document.Parsed; data: Json } {
    this.whole ??= parseWhole(this.text, this.file);
    return this.whole;
  }

  /** The scan's list, when the scan vouches for the file and the key holds a block list (or is absent). */
  scannedList(list: ListName): ScannedList | null | undefined {
    const scan = this.scan();
    if (!scan.vouched) return undefined;
    const found = scan.lists.get(list);
    if (found === 'other') return undefined;
    return found ?? null;
  }

  /**
   * The names of a list's entries, in order; from the scan, parsing only the items whose name no line
   * says plainly, or from the whole parse when the scan cannot vouch for them.
   */
  entries(list: ListName): ListEntry[] {
    const scanned = this.scannedList(list);
    if (scanned === null) return [];
    if (scanned !== undefined) {
      const entries: ListEntry[] = [];
      let ok = true;
      for (const item of scanned.items) {
        let name = item.name;
        if (name === undefined) {
          const document = parseYaml(this.text.slice(item.start, item.end));
          const parsed = documentData(document);
          if (parsed === undefined || document.warnings.length > 0 || !Array.isArray(parsed.data) || parsed.data.length !== 1) {
            ok = false;
            break;
          }
          name = entryName(parsed.data[0]);
        }
        entries.push({ name, start: item.start, end: item.end });
      }
      if (ok) return entries;
    }
    const items = this.full().data[list];
    return Array.isArray(items) ? items.map((item) => ({ name: entryName(item) })) : [];
  }

  /** Throws duplicateName when any of the three lists names an entry twice, which makes kubectl refuse the file. */
  checkDuplicates(): void {
    for (const list of LIST_NAMES) {
      const seen = new Set<string>();
      for (const entry of this.entries(list)) {
        if (entry.name === undefined) continue;
        if (seen.has(entry.name)) throw duplicateError(this.file, list, entry.name);
        seen.add(entry.name);
      }
    }
  }
}

/** The top-level list node of a parsed document, for the writers that need its position. */
export function listNode(document: Document.Parsed, list: ListName) {
  if (!isMap(document.contents)) return undefined;
  const value = document.contents.get(list, true);
  return isSeq(value) ? value : undefined;
}
