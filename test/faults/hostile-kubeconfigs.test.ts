// Malformed and hostile kubeconfigs through the engine: each ends in a typed KubeconfigError or a sensible
// view, never another exception, never a hang, and the file keeps every byte. Every call runs in a worker
// thread with a deadline, because a parser stuck in a synchronous loop can only be stopped from outside.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { azNames, azSkeleton, fakeCaData } from '../support/kubeconfig-fixtures';
import type { WorkerReply, WorkerRequest } from './kubeconfig-worker';
import { numberedToken } from './support';

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

class EngineWorker {
  private worker = this.start();
  private nextId = 0;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  private start(): Worker {
    const worker = new Worker(join(__dirname, 'kubeconfig-worker.js'));
    worker.on('message', (reply: WorkerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    return worker;
  }

  /** The engine's answer, or a rejection naming the request when it takes longer than `timeoutMs`. */
  call(request: Request, timeoutMs: number): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        void this.worker.terminate();
        this.worker = this.start();
        reject(new Error(`${request.op} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.worker.postMessage({ ...request, id });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

let engine: EngineWorker;
let dir: string;
before(() => {
  engine = new EngineWorker();
  dir = mkdtempSync(join(tmpdir(), 'aks-signin-hostile-'));
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const AKS_USER = ['  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1beta1', '      args: [get-token, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --login, devicecode]', '      command: kubelogin'];
const header = 'apiVersion: v1\nkind: Config\n';

function hugeKubeconfig(targetBytes: number): string {
  const parts = [header, 'clusters:\n'];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const entry = `- cluster:\n    certificate-authority-data: ${fakeCaData(i)}\n    server: https://10.0.${i % 250}.1:443\n  name: c${i}\n`;
    parts.push(entry);
    size += entry.length;
  }
  parts.push('users:\n- name: u\n  user:\n    token: static-token-of-another-tool\n');
  return parts.join('');
}

const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
for (const [name, previous] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) {
  laughs.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
}

/** Each file asks for user "u"; none holds a user of that name that can be written, so every write must be refused. */
const corpus: Array<{ name: string; bytes: () => Buffer }> = [
  { name: 'huge (20 MB, 20,000 clusters)', bytes: () => Buffer.from(hugeKubeconfig(20 * 1024 * 1024)) },
  { name: 'a very long single line (5 MB scalar)', bytes: () => Buffer.from(`${header}preferences: {x: "${'x'.repeat(5 * 1024 * 1024)}"}\nusers: []\n`) },
  { name: 'deeply nested flow sequences', bytes: () => Buffer.from(`${header}users: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`) },
  { name: 'deeply nested flow mappings', bytes: () => Buffer.from(`${header}users: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}\n`) },
  { name: 'deeply nested block mappings', bytes: () => Buffer.from(`${header}preferences:\n${Array.from({ length: 1500 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`) },
  { name: 'billion laughs at the top level', bytes: () => Buffer.from(`${header}${laughs.join('\n')}\nusers: [{name: u, user: {token: *i}}]\n`) },
  { name: 'an alias bomb inside the user entry', bytes: () => Buffer.from(`${header}users:\n- name: u\n${AKS_USER.join('\n')}\n${laughs.map((line) => `    ${line}`).join('\n')}\n`) },
  { name: 'a user entry that is an alias to an AKS body elsewhere', bytes: () => Buffer.from(`${header}x: &body\n${AKS_USER.slice(1).map((line) => line.slice(2)).join('\n')}\nusers:\n- name: u\n  user: *body\n`) },
  { name: 'a self-referencing alias', bytes: () => Buffer.from(`${header}users: &a [*a]\n`) },
  { name: 'users as a map', bytes: () => Buffer.from(`${header}users:\n  u:\n    token: abc\n`) },
  { name: 'a user with user: 42', bytes: () => Buffer.from(`${header}users:\n- name: u\n  user: 42\n`) },
  { name: 'a user whose name is a list', bytes: () => Buffer.from(`${header}users:\n- name: [u]\n${AKS_USER.join('\n')}\n`) },
  { name: 'an AKS-looking user with wrong types inside', bytes: () => Buffer.from(`${header}users:\n- name: u\n  user:\n    exec: {command: [kubelogin], args: {get-token: 1}}\n    auth-provider: {name: azure, config: 42}\n`) },
  { name: 'contexts as a string', bytes: () => Buffer.from(`${header}contexts: everything\nusers: []\n`) },
  { name: 'binary garbage', bytes: () => randomBytes(64 * 1024) },
  { name: 'NUL bytes inside the user entry', bytes: () => Buffer.from(`${header}users:\n- name: u\x00\n${AKS_USER.join('\n')}\x00\n`) },
  { name: 'invalid UTF-8 outside a writable user', bytes: () => Buffer.concat([Buffer.from(`${header}# caf`), Buffer.from([0xe9]), Buffer.from(`\nusers:\n- name: u\n${AKS_USER.join('\n')}\n`)]) },
  { name: 'invalid UTF-8', bytes: () => Buffer.concat([Buffer.from(`${header}users:\n- name: u`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(`\n${AKS_USER.join('\n')}\n`)]) },
  { name: 'a byte order mark before a config without the user', bytes: () => Buffer.from(`\ufeff${header}users: []\n`) },
  { name: 'an empty file', bytes: () => Buffer.alloc(0) },
  { name: 'only comments', bytes: () => Buffer.from('# az aks get-credentials was here\n# and left nothing\n') },
  { name: 'only whitespace and document markers', bytes: () => Buffer.from('\n\n---\n...\n   \n') },
  { name: 'tabs for indentation', bytes: () => Buffer.from(`${header}users:\n-\tname: u\n\tuser:\n\t\ttoken: abc\n`) },
  { name: 'duplicate top-level keys', bytes: () => Buffer.from(`${header}users:\n- name: u\n${AKS_USER.join('\n')}\nusers: []\n`) },
  { name: 'duplicate keys inside the user entry', bytes: () => Buffer.from(`${header}users:\n- name: u\n${AKS_USER.join('\n')}\n    exec: {command: other}\n`) },
  { name: 'the user defined twice', bytes: () => Buffer.from(`${header}users:\n- name: u\n${AKS_USER.join('\n')}\n- name: u\n${AKS_USER.join('\n')}\n`) },
  { name: 'two YAML documents', bytes: () => Buffer.from(`${header}users: []\n---\n${header}users:\n- name: u\n${AKS_USER.join('\n')}\n`) },
  { name: 'custom tags', bytes: () => Buffer.from(`${header}users:\n- name: !custom u\n  user: !!binary aGVsbG8=\n`) },
  { name: 'lone carriage returns as line breaks', bytes: () => Buffer.from(`${header}users:\n- name: u\n${AKS_USER.join('\r')}\r`) },
  { name: 'not a kubeconfig (kind: Secret)', bytes: () => Buffer.from('apiVersion: v1\nkind: Secret\ndata: {}\nusers: []\n') },
  { name: 'a top-level list', bytes: () => Buffer.from('- users\n- contexts\n') },
  { name: 'a top-level scalar', bytes: () => Buffer.from('just some words\n') },
];

let caseNumber = 0;

for (const hostile of corpus) {
  test(`hostile kubeconfig: ${hostile.name}`, async () => {
    const file = join(dir, `config-${++caseNumber}`);
    const bytes = hostile.bytes();
    writeFileSync(file, bytes, { mode: 0o600 });
    const token = numberedToken(caseNumber);
    // Generous: a 20 MB file on a busy two-core machine takes seconds; a hang takes forever.
    const deadlineMs = 60_000;

    const read = await engine.call({ op: 'read', file, user: 'u' }, deadlineMs);
    assert.notEqual(read.outcome, 'otherError', `read threw something other than a KubeconfigError: ${JSON.stringify(read)}`);
    if (read.outcome === 'kubeconfigError') assert.equal(read.file, file, 'the error names the file');

    for (const op of ['write', 'clear'] as const) {
      const reply = await engine.call(op === 'write' ? { op, file, user: 'u', token } : { op, file, user: 'u' }, deadlineMs);
      assert.equal(reply.outcome, 'kubeconfigError', `${op} must be refused with a KubeconfigError: ${JSON.stringify(reply).slice(0, 500)}`);
      if (reply.outcome !== 'kubeconfigError') continue;
      assert.ok(reply.message.includes(file), `${op}: the message names the file: ${reply.message}`);
      assert.ok(!reply.message.includes(token), `${op}: the message carries no token`);
      assert.ok(reply.message.length < 600, `${op}: the message is short enough to read: ${reply.message.slice(0, 200)}…`);
    }
    assert.ok(readFileSync(file).equals(bytes), 'the file keeps every byte');
    assert.ok(!existsSync(`${file}.lock`), 'no lock is left behind');
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), [], 'no temporary file is left behind');
    rmSync(file);
  });
}

/**
 * Hostile files that hold a writable AKS user "u" between the marker comments: the write must succeed,
 * change bytes only between the markers, and sign-out must give back every byte. Without these, "keeps
 * every byte" above could never fail, since every write there is refused.
 */
const START = '# <target>';
const END = '# </target>';
const target = (eol = '\n', indent = '') =>
  [START, `${indent}- name: u`, `${indent}  user:`, ...AKS_USER.slice(1).map((line) => `${indent}${line}`), END].join(eol) + eol;
const writable: Array<{ name: string; bytes: () => Buffer }> = [
  { name: 'huge (20 MB, 20,000 clusters) with the user last', bytes: () => Buffer.from(hugeKubeconfig(20 * 1024 * 1024).replace(/users:\n[\s\S]*$/, `users:\n${target()}`)) },
  { name: 'a 5 MB single-line scalar before the user', bytes: () => Buffer.from(`${header}preferences: {x: "${'x'.repeat(5 * 1024 * 1024)}"}\nusers:\n${target()}`) },
  { name: 'deeply nested flow sequences in another key', bytes: () => Buffer.from(`${header}x-deep: ${'['.repeat(2000)}${']'.repeat(2000)}\nusers:\n${target()}`) },
  { name: 'deeply nested block mappings in another key', bytes: () => Buffer.from(`${header}preferences:\n${Array.from({ length: 1500 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\nusers:\n${target()}`) },
  { name: 'a 1 MB token of another tool beside the user', bytes: () => Buffer.from(`${header}users:\n- name: other\n  user:\n    token: ${'t'.repeat(1024 * 1024)}\n${target()}`) },
  { name: 'a BOM, CRLF, tabs and spaces after values, no final newline', bytes: () => Buffer.from(`\ufeff${header.replace(/\n/g, ' \t\r\n')}users:\r\n${target('\r\n')}- name: z\r\n  user: {token: x}\t`) },
  { name: 'four-byte characters and right-to-left text around the user', bytes: () => Buffer.from(`${header}# 🚀 عربى עברית\ncontexts:\n- name: "ctx-🚀"\n  context: {cluster: c, user: u}\nusers:\n${target()}- name: "מ-🚀"\n  user: {token: "😀"}\n`) },
  { name: 'anchors, aliases and merge keys in the clusters', bytes: () => Buffer.from(`${header}clusters:\n- name: a\n  cluster: &base {server: "https://a", insecure-skip-tls-verify: true}\n- name: b\n  cluster:\n    <<: *base\n    server: https://b\nusers:\n${target()}`) },
  { name: 'flow-style siblings and comments that look like YAML', bytes: () => Buffer.from(`${header}users:\n- {name: a, user: {token: x}} # - name: u\n#  user: {token: fake}\n${target()}- {name: b, user: {token: y}}\n`) },
  { name: 'keys no line scan reads (a#b, 1, ? x) inside the user', bytes: () => Buffer.from(`${header}users:\n${target().replace('  user:\n', '  user:\n    a#b: 1\n    1: x\n    ? x\n    : y\n')}- name: z\n  user: {token: x}\n`) },
  { name: 'an indented list in a 5 MB CRLF file', bytes: () => Buffer.from(hugeKubeconfig(5 * 1024 * 1024).replace(/users:\n[\s\S]*$/, `users:\n${target('\n', '  ')}`).replace(/\n/g, '\r\n')) },
];

for (const hostile of writable) {
  test(`hostile kubeconfig, written: ${hostile.name}`, async () => {
    const file = join(dir, `config-${++caseNumber}`);
    const bytes = hostile.bytes();
    writeFileSync(file, bytes, { mode: 0o600 });
    const token = numberedToken(caseNumber);
    const from = bytes.indexOf(START);
    const to = bytes.indexOf(END) + END.length;
    assert.ok(from > 0 && to > from, 'the case marks its target');
    const write = await engine.call({ op: 'write', file, user: 'u', token }, 60_000);
    assert.equal(write.outcome, 'ok', `the write must succeed: ${JSON.stringify(write).slice(0, 500)}`);
    const after = readFileSync(file);
    assert.ok(after.subarray(0, from).equals(bytes.subarray(0, from)), 'every byte before the target is kept');
    assert.ok(after.subarray(after.length - (bytes.length - to)).equals(bytes.subarray(to)), 'every byte after the target is kept');
    assert.ok(after.includes(Buffer.from(token)), 'the token is in');
    const clear = await engine.call({ op: 'clear', file, user: 'u' }, 60_000);
    assert.equal(clear.outcome, 'ok', JSON.stringify(clear).slice(0, 500));
    assert.ok(readFileSync(file).equals(bytes), 'sign-out gives back every byte');
    assert.ok(!existsSync(`${file}.lock`));
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);
    rmSync(file);
  });
}

const skeletons = [
  azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 2 }),
  azSkeleton({ server: 'https://127.0.0.1:6443', format: 'auth-provider', contexts: 2, eol: '\r\n' }),
];
const TARGET_USER = azNames(0).user;

interface Edit {
  at: number;
  kind: 'delete' | 'insert' | 'duplicateLine' | 'indent';
  length: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  let result = text;
  for (const edit of edits) {
    const at = result.length === 0 ? 0 : edit.at % result.length;
    switch (edit.kind) {
      case 'delete':
        result = result.slice(0, at) + result.slice(at + edit.length);
        break;
      case 'insert':
        result = result.slice(0, at) + edit.text + result.slice(at);
        break;
      case 'duplicateLine': {
        const start = result.lastIndexOf('\n', at) + 1;
        const end = result.indexOf('\n', at);
        const line = result.slice(start, end === -1 ? result.length : end + 1);
        result = result.slice(0, start) + line + result.slice(start);
        break;
      }
      case 'indent': {
        const start = result.lastIndexOf('\n', at) + 1;
        result = result.slice(0, start) + ' '.repeat(edit.length % 5) + result.slice(start);
        break;
      }
    }
  }
  return result;
}

const yamlSignificant = fc.constantFrom(':', '-', ' ', '  ', '\n', '\r\n', '\t', '[', ']', '{', '}', '&a ', '*a', '!', '#', '"', "'", '|', '>', '? ', ',', '\u0000', '\ufeff', '---\n', 'users:\n', 'user:', 'token: x', 'exec:');
const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('delete', 'insert', 'duplicateLine', 'indent'),
  length: fc.integer({ min: 1, max: 40 }),
  text: fc.array(yamlSignificant, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('')),
});

/** The engine's answer to one text: a patch (valid when the input was) or a KubeconfigError, nothing else. */
async function checkText(text: string, user: string): Promise<WorkerReply> {
  const reply = await engine.call({ op: 'patch', text, user, token: numberedToken(7) }, 10_000);
  if (reply.outcome === 'otherError') assert.fail(`not a KubeconfigError: ${reply.name}: ${reply.message}\n${reply.stack}\ninput: ${JSON.stringify(text.slice(0, 2000))}`);
  if (reply.outcome === 'ok' && reply.patchedProblem !== undefined) assert.fail(`${reply.patchedProblem}\ninput: ${JSON.stringify(text)}`);
  return reply;
}

test('fuzz: random bytes and strings never throw anything but KubeconfigError, and never hang', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
        fc.string({ unit: 'binary', maxLength: 2000 }),
        fc.array(yamlSignificant.chain((piece) => fc.oneof(fc.constant(piece), fc.string({ maxLength: 8 }))), { maxLength: 200 }).map((parts) => parts.join('')),
      ),
      async (text) => {
        await checkText(text, 'u');
      },
    ),
    { numRuns: 300 },
  );
});

test('fuzz: random mutations of an az skeleton are patched into valid YAML or refused with a KubeconfigError', async () => {
  let patchedValid = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...skeletons), fc.array(edit, { minLength: 1, maxLength: 6 }), async (skeleton, edits) => {
      const reply = await checkText(applyEdits(skeleton, edits), TARGET_USER);
      if (reply.outcome === 'ok' && reply.parsedInput === true) patchedValid++;
    }),
    { numRuns: 300 },
  );
  // Mutations that keep the file valid must still be written, or this property would hold vacuously.
  assert.ok(patchedValid > 20, `only ${patchedValid} of 300 mutated files were patched`);
});
