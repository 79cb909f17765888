import { readFile } from 'node:fs/promises';
import { parseWhole } from './entries';
import { KubeconfigError, fileSystemError, isNodeError } from './errors';
import { decodeKubeconfig } from './text';
import { recogniseCredential, type UserCredential } from './identity';

export interface KubeContext {
  name: string;
  clusterName: string;
  server?: string;
  userName: string;
  namespace?: string;
  file: string;
}

export interface KubeUser {
  name: string;
  file: string;
  credential: UserCredential;
}

export interface KubeconfigView {
  /** The files that exist and were read, in order. */
  files: string[];
  currentContext?: string;
  contexts: KubeContext[];
  users: Map<string, KubeUser>;
  /** Problems that leave the rest of the view usable, such as a context naming a missing user. */
  problems: KubeconfigError[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses one kubeconfig's text fully, as kubectl reads it; throws a KubeconfigError when it is not YAML or not a kubeconfig. */
export function parseKubeconfigText(text: string, file: string): Json {
  return parseWhole(text, file).data;
}

function namedEntries(config: Json, list: string, file: string, problems: KubeconfigError[]): Array<{ name: string; body: Json }> {
  const entries = Array.isArray(config[list]) ? (config[list] as unknown[]) : [];
  const seen = new Set<string>();
  const result: Array<{ name: string; body: Json }> = [];
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry['name'] !== 'string') continue;
    const name = entry['name'];
    if (seen.has(name)) {
      problems.push(new KubeconfigError('duplicateName', file, `The kubeconfig ${file} defines the ${list.slice(0, -1)} "${name}" more than once, and kubectl refuses such a file ("duplicate name"). Remove or rename the duplicate.`));
      continue;
    }
    seen.add(name);
    const bodyKey = list.slice(0, -1);
    result.push({ name, body: isObject(entry[bodyKey]) ? entry[bodyKey] : {} });
  }
  return result;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads and merges kubeconfig files the way kubectl does: missing files are skipped, the first file to
 * define a name wins, and the first current-context set wins.
 */
export async function readKubeconfig(paths: string[]): Promise<KubeconfigView> {
  const view: KubeconfigView = { files: [], contexts: [], users: new Map(), problems: [] };
  const clusters = new Map<string, { server?: string; file: string }>();
  const contexts = new Map<string, KubeContext>();
  for (const file of paths) {
    let text: string;
    try {
      // Bytes that are not UTF-8 are refused, never read as U+FFFD: kubectl cannot read such a file either.
      text = decodeKubeconfig(await readFile(file), file);
    } catch (error) {
      if (error instanceof KubeconfigError) throw error;
      if (isNodeError(error) && error.code === 'ENOENT') continue;
      throw fileSystemError(error, file, 'read');
    }
    const config = parseKubeconfigText(text, file);
    view.files.push(file);
    if (view.currentContext === undefined) view.currentContext = optionalString(config['current-context']);
    for (const { name, body } of namedEntries(config, 'clusters', file, view.problems)) {
      if (!clusters.has(name)) clusters.set(name, { server: optionalString(body['server']), file });
    }
    for (const { name, body } of namedEntries(config, 'users', file, view.problems)) {
      if (!view.users.has(name)) view.users.set(name, { name, file, credential: recogniseCredential(body) });
    }
    for (const { name, body } of namedEntries(config, 'contexts', file, view.problems)) {
      if (contexts.has(name)) continue;
      contexts.set(name, {
        name,
        clusterName: typeof body['cluster'] === 'string' ? body['cluster'] : '',
        userName: typeof body['user'] === 'string' ? body['user'] : '',
        namespace: optionalString(body['namespace']),
        file,
      });
    }
  }
  // References are resolved across all files, as kubectl merges before it looks them up.
  for (const context of contexts.values()) {
    const cluster = clusters.get(context.clusterName);
    if (cluster === undefined) {
      view.problems.push(new KubeconfigError('missingReference', context.file, `Context "${context.name}" in ${context.file} names cluster "${context.clusterName}", which no kubeconfig defines. Run az aks get-credentials again or fix the context.`));
    } else {
      context.server = cluster.server;
    }
    if (!view.users.has(context.userName)) {
      view.problems.push(new KubeconfigError('missingReference', context.file, `Context "${context.name}" in ${context.file} names user "${context.userName}", which no kubeconfig defines. Run az aks get-credentials again or fix the context.`));
    }
    view.contexts.push(context);
  }
  return view;
}

/** The file that defines a user; writes go there, because that definition is the one kubectl uses. */
export function fileForUser(view: KubeconfigView, userName: string): string {
  const user = view.users.get(userName);
  if (user === undefined) {
    throw new KubeconfigError('notFound', view.files[0] ?? '', `No kubeconfig defines the user "${userName}". Run az aks get-credentials for the cluster first.`);
  }
  return user.file;
}
