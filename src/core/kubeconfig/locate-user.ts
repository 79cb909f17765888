// Finds one user entry in kubeconfig text. Kubeconfigs that `az aks get-credentials` merges grow to
// megabytes (one CA bundle per cluster), and a token refresh must cost less than kubectl's own rewrite,
// so when the scan vouches for the file's layout only the owned entry is parsed, as a document of its
// own; otherwise the whole file is parsed. Either way the entry comes back as `yaml` nodes with exact
// source ranges, which is what the patcher works from.
import { isMap, isScalar, isSeq, type Document, type Pair, type YAMLMap } from 'yaml';
import { KubeconfigError } from './errors';
import { documentData, hasOutsideAlias, isObject, nodeData, parseYaml, repeatedKey, type Json } from './document';
import { KubeconfigText, duplicateError, listNode } from './entries';

export interface LocatedUser {
  name: string;
  /** The text `item` was parsed from: the whole file, or only the entry's lines. */
  source: string;
  /** Where `source` starts in the whole text. */
  base: number;
  /** Present when only the entry's lines were parsed: their offsets in the whole text. */
  window?: { start: number; end: number };
  document: Document.Parsed;
  /** The list item, and its `user` pair and value. */
  item: YAMLMap;
  userPair: Pair;
  bodyNode: YAMLMap;
  /** The user body (the value of `user:`) as plain data. */
  body: Json;
  /** Whether sequences in this file sit at their parent key's indentation, as kubectl writes them. */
  indentlessSequences: boolean;
}

export function unknownUser(file: string, userName: string): KubeconfigError {
  return new KubeconfigError('notFound', file, `The kubeconfig ${file} has no user "${userName}". Run az aks get-credentials for the cluster again, or choose the kubeconfig that defines it.`);
}

function notAksUser(file: string, userName: string, why = ''): KubeconfigError {
  return new KubeconfigError('notAks', file, `The user "${userName}" in ${file} is not an AKS Entra ID user${why}; AKS Sign-In leaves it alone.`);
}

export function unverifiable(file: string, what: string, todo = 'Change it by hand'): KubeconfigError {
  return new KubeconfigError('unverifiable', file, `AKS Sign-In did not change ${file}: ${what}. ${todo}; the file was left untouched.`);
}

function nameOf(item: unknown, document: Document.Parsed): unknown {
  if (!isMap(item)) return undefined;
  const name = item.get('name', true);
  return nodeData(name, document)?.data;
}

/** Checks the located item and wraps it up; throws the error a person can act on. */
function fromItem(item: unknown, document: Document.Parsed, source: string, base: number, file: string, userName: string, indentless: boolean, window?: { start: number; end: number }): LocatedUser {
  if (!isMap(item)) throw unknownUser(file, userName);
  const repeated = repeatedKey(item);
  if (repeated !== undefined) throw unverifiable(file, `the user entry "${userName}" has the key "${repeated}" twice, and kubectl quietly uses only the last one`, 'Remove the one that is not meant');
  const userPair = item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'user');
  const value = userPair?.value as unknown;
  if (userPair === undefined) throw new KubeconfigError('notAks', file, `The user "${userName}" in ${file} has no credentials section, so it is not an AKS Entra ID user. Run az aks get-credentials again.`);
  // An entry whose skeleton leans on an anchor elsewhere could not be restored on its own at sign-out
  // (aliases to anchors inside the entry travel with it).
  if (value != null && hasOutsideAlias(value)) {
    throw unverifiable(file, `the user entry "${userName}" uses a YAML alias (*name), so its content lives elsewhere in the file and cannot be replaced on its own`, 'Replace the alias with the value it stands for');
  }
  if (!isMap(value) || value.range == null) throw notAksUser(file, userName);
  if (value.tag !== undefined && value.tag !== 'tag:yaml.org,2002:map') throw unverifiable(file, `the user entry "${userName}" carries the YAML tag ${value.tag}`, 'Remove the tag');
  const body = nodeData(value, document)?.data;
  if (!isObject(body)) throw notAksUser(file, userName);
  return { name: userName, source, base, window, document, item, userPair, bodyNode: value, body, indentlessSequences: indentless };
}

function locateByFullParse(model: KubeconfigText, userName: string): LocatedUser {
  const { text, file } = model;
  const { document } = model.full();
  model.checkDuplicates();
  const root = document.contents;
  if (isMap(root)) {
    const lists = root.items.filter((pair) => isScalar(pair.key) && pair.key.value === 'users');
    if (lists.length > 1) throw unverifiable(file, 'the file has the key "users" twice, and kubectl reads only the last list', 'Merge the two lists into one');
  }
  const users = listNode(document, 'users');
  if (users === undefined) throw unknownUser(file, userName);
  const matches = users.items.filter((item) => nameOf(item, document) === userName);
  if (matches.length > 1) throw duplicateError(file, 'users', userName);
  if (matches.length === 0) throw unknownUser(file, userName);
  // kubectl writes lists at their key's indentation; a flow list tells nothing, so follow kubectl.
  const firstDash = users.flow || users.range == null ? -1 : users.range[0];
  const indentless = firstDash < 0 || firstDash === text.lastIndexOf('\n', firstDash - 1) + 1;
  return fromItem(matches[0], document, text, 0, file, userName, indentless);
}

/** Finds the user entry `userName` defines in the text; throws a KubeconfigError when it cannot be patched. */
export function locateUser(model: KubeconfigText, userName: string): LocatedUser {
  const { text, file } = model;
  const list = model.scannedList('users');
  // A file without the user may be no kubeconfig at all, or one the scan misread: the whole parse says which.
  if (list == null) return locateByFullParse(model, userName);
  const scan = model.scan();
  if (!scan.vouched || !kindIsConfig(model)) return locateByFullParse(model, userName);
  let entries;
  try {
    model.checkDuplicates();
    entries = model.entries('users');
  } catch (error) {
    if (error instanceof KubeconfigError && error.kind === 'duplicateName') throw error;
    return locateByFullParse(model, userName);
  }
  const matches = entries.filter((entry) => entry.name === userName);
  if (matches.length === 0) return locateByFullParse(model, userName);
  const match = matches[0];
  if (match?.start === undefined || match.end === undefined) return locateByFullParse(model, userName);
  const source = text.slice(match.start, match.end);
  const document = parseYaml(source);
  const parsed = documentData(document);
  const sequence = document.contents;
  if (parsed === undefined || document.warnings.length > 0 || !isSeq(sequence) || sequence.items.length !== 1 || nameOf(sequence.items[0], document) !== userName) {
    // The entry does not stand on its own (it uses an anchor from elsewhere, say): the whole parse decides.
    return locateByFullParse(model, userName);
  }
  return fromItem(sequence.items[0], document, source, match.start, file, userName, list.indent === 0, { start: match.start, end: match.end });
}

/** Whether the file's top-level `kind`, if it has one, says Config; read from that key's lines alone. */
function kindIsConfig(model: KubeconfigText): boolean {
  const scan = model.scan();
  if (!scan.vouched) return false;
  const kinds = scan.keys.filter((key) => key.key === 'kind');
  if (kinds.length === 0) return true;
  if (kinds.length > 1) return false;
  const kind = kinds[0]!;
  const parsed = documentData(parseYaml(model.text.slice(kind.start, kind.end)));
  return parsed !== undefined && isObject(parsed.data) && parsed.data['kind'] === 'Config';
}
