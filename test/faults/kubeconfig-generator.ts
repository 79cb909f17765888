// Generated kubeconfigs for the differential fuzz: not only the layout az writes, but what people and
// other tools leave in the file. Block and flow style mixed, anchors and aliases inside and outside the
// entry a write targets, merge keys, comments everywhere, quoted and odd keys, multi-line and block
// scalars, document markers, a BOM, CRLF, tabs after values, no final newline, duplicate names, several
// users sharing one identity. Deterministic from a seed, so a failure can be replayed.

/** mulberry32: small, fast, and the same sequence on every machine. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

export const SERVER_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
const CLIENT_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';
const TENANTS = ['72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com', '5c1f2b8e-0d4f-4a57-9a2c-7f3b1a9e6d21'];

// A tiny YAML model, rendered in either style.
type Node =
  | { kind: 'scalar'; value: string; style?: 'plain' | 'raw' | 'single' | 'double' | 'literal' | 'folded' | 'multiPlain' | 'multiDouble'; anchor?: string; tag?: string }
  | { kind: 'alias'; name: string }
  | { kind: 'map'; pairs: Pair[]; flow?: boolean; anchor?: string }
  | { kind: 'seq'; items: Node[]; flow?: boolean; anchor?: string };

interface Pair {
  key: string;
  keyStyle?: 'plain' | 'single' | 'double' | 'complex';
  value: Node;
  commentBefore?: string;
  comment?: string;
}

const s = (value: string, style?: Extract<Node, { kind: 'scalar' }>['style']): Node => ({ kind: 'scalar', value, ...(style ? { style } : {}) });
const map = (pairs: Pair[], flow = false): Node => ({ kind: 'map', pairs, flow });
const seq = (items: Node[], flow = false): Node => ({ kind: 'seq', items, flow });
const pair = (key: string, value: Node): Pair => ({ key, value });

export interface Layout {
  eol: '\n' | '\r\n';
  step: 2 | 4;
  /** List items at their key's indentation, as kubectl writes them. */
  indentless: boolean;
  random: Random;
  /** Extra spaces or a tab after some values. */
  trailing: number;
  comments: number;
}

const PLAIN_SAFE = /^[A-Za-z_./][A-Za-z0-9_./@:+=-]*$/;
const WORDS = /^(?:true|false|yes|no|on|off|null|y|n|~)$/i;

function quoteDouble(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalarText(node: Extract<Node, { kind: 'scalar' }>, flow: boolean): string {
  const style = node.style ?? 'plain';
  if (style === 'raw') return node.value;
  const plainOk = PLAIN_SAFE.test(node.value) && !WORDS.test(node.value) && !/^[0-9.+-]/.test(node.value) && !(flow && /[,[\]{}]/.test(node.value)) && !node.value.includes(': ');
  if (style === 'single' && !node.value.includes('\n')) return `'${node.value.replace(/'/g, "''")}'`;
  if (style === 'plain' && plainOk) return node.value;
  return quoteDouble(node.value);
}

function props(node: { anchor?: string; tag?: string }): string {
  return [node.tag, node.anchor !== undefined ? `&${node.anchor}` : undefined].filter(Boolean).join(' ');
}

function flowText(node: Node, layout: Layout): string {
  switch (node.kind) {
    case 'alias':
      return `*${node.name}`;
    case 'scalar': {
      const p = props(node);
      return `${p ? p + ' ' : ''}${scalarText(node, true)}`;
    }
    case 'map': {
      const p = node.anchor !== undefined ? `&${node.anchor} ` : '';
      return `${p}{${node.pairs.map((entry) => `${keyText(entry, true)}: ${flowText(entry.value, layout)}`).join(', ')}}`;
    }
    case 'seq': {
      const p = node.anchor !== undefined ? `&${node.anchor} ` : '';
      return `${p}[${node.items.map((item) => flowText(item, layout)).join(', ')}]`;
    }
  }
}

function keyText(entry: Pair, flow: boolean): string {
  if (entry.keyStyle === 'double' || (!flow && entry.keyStyle !== 'single' && !/^[A-Za-z0-9_<][A-Za-z0-9_.#/<-]*$/.test(entry.key)) || (flow && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(entry.key))) return quoteDouble(entry.key);
  if (entry.keyStyle === 'single') return `'${entry.key.replace(/'/g, "''")}'`;
  return entry.key;
}

function pad(n: number): string {
  return ' '.repeat(n);
}

function decorate(line: string, layout: Layout): string {
  const r = layout.random;
  if (layout.trailing > 0 && r.chance(layout.trailing) && !/[|>][0-9+-]*$/.test(line)) return line + r.pick([' ', '  ', '\t', ' \t']);
  return line;
}

function commentLines(indent: number, layout: Layout, out: string[]): void {
  const r = layout.random;
  if (layout.comments > 0 && r.chance(layout.comments)) out.push(pad(r.pick([0, indent, indent + 2, Math.max(0, indent - 2)])) + r.pick(['# note', '#', '# café: ☕ "quoted" and: colons', '# - looks like an item', '#key: not a key', '# &anchor *alias |']));
}

function blockScalarLines(node: Extract<Node, { kind: 'scalar' }>, indent: number): { header: string; lines: string[] } {
  const content = node.value.split('\n');
  if (node.style === 'literal') {
    const lead = content[0] === '';
    const header = lead ? '|2' : node.value.endsWith('\n') ? '|' : '|-';
    const body = node.value.endsWith('\n') ? content.slice(0, -1) : content;
    return { header, lines: body.map((line) => (line === '' ? '' : pad(indent + 2) + line)) };
  }
  const body = node.value.endsWith('\n') ? content.slice(0, -1) : content;
  return { header: node.value.endsWith('\n') ? '>' : '>-', lines: body.map((line) => pad(indent + 2) + line) };
}

/** Lines of `key: value` in a block mapping at `indent`. */
function blockPair(entry: Pair, indent: number, layout: Layout, out: string[]): void {
  if (entry.commentBefore !== undefined) out.push(pad(indent) + entry.commentBefore);
  commentLines(indent, layout, out);
  const trailing = entry.comment !== undefined ? ` ${entry.comment}` : '';
  const value = entry.value;
  if (entry.keyStyle === 'complex') {
    out.push(`${pad(indent)}? ${keyText({ ...entry, keyStyle: undefined }, false)}`);
    out.push(`${pad(indent)}: ${flowText(value, layout)}${trailing}`);
    return;
  }
  const key = `${pad(indent)}${keyText(entry, false)}:`;
  blockValue(key, value, indent, layout, out, trailing);
}

/** Renders `value` after `head` (a key with its colon, or a dash), nested content at `indent`+. */
function blockValue(head: string, value: Node, indent: number, layout: Layout, out: string[], trailing = ''): void {
  const step = layout.step;
  if (value.kind === 'alias') {
    out.push(decorate(`${head} *${value.name}${trailing}`, layout));
    return;
  }
  const p = props(value);
  const pre = p ? ` ${p}` : '';
  if (value.kind === 'scalar') {
    if (value.style === 'literal' || value.style === 'folded') {
      const { header, lines } = blockScalarLines(value, indent);
      out.push(`${head}${pre} ${header}${trailing}`, ...lines);
    } else if (value.style === 'multiPlain' && PLAIN_SAFE.test(value.value.replace(/ /g, '_')) && value.value.includes(' ') && !WORDS.test(value.value.split(' ')[0]!)) {
      const words = value.value.split(' ');
      out.push(`${head}${pre} ${words[0]}`, `${pad(indent + 2)}${words.slice(1).join(' ')}${trailing}`);
    } else if (value.style === 'multiDouble' && value.value.includes(' ')) {
      const at = value.value.indexOf(' ');
      out.push(`${head}${pre} "${value.value.slice(0, at).replace(/["\\]/g, '')}`, `${pad(indent + 2)}${value.value.slice(at + 1).replace(/["\\]/g, '')}"${trailing}`);
    } else out.push(decorate(`${head}${pre} ${scalarText(value, false)}${trailing}`, layout));
    return;
  }
  if (value.flow || (value.kind === 'map' && value.pairs.length === 0) || (value.kind === 'seq' && value.items.length === 0)) {
    out.push(decorate(`${head} ${flowText(value, layout)}${trailing}`, layout));
    return;
  }
  out.push(`${head}${pre}${trailing}`);
  if (value.kind === 'map') {
    for (const entry of value.pairs) blockPair(entry, indent + step, layout, out);
  } else {
    const dash = head.trimStart().startsWith('-') || !layout.indentless ? indent + step : indent;
    blockSeqItems(value.items, dash, layout, out);
  }
}

function blockSeqItems(items: Node[], dash: number, layout: Layout, out: string[]): void {
  for (const item of items) {
    commentLines(dash, layout, out);
    if (item.kind === 'map' && !item.flow && item.pairs.length > 0 && item.anchor === undefined) {
      const [first, ...rest] = item.pairs;
      const lines: string[] = [];
      blockPair(first!, dash + 2, layout, lines);
      // The first pair goes on the dash's line.
      const firstLine = lines.findIndex((line) => !line.trimStart().startsWith('#'));
      lines[firstLine] = `${pad(dash)}- ${lines[firstLine]!.slice(dash + 2)}`;
      out.push(...lines);
      for (const entry of rest) blockPair(entry, dash + 2, layout, out);
    } else if (item.kind === 'map' && !item.flow && item.pairs.length > 0) {
      out.push(`${pad(dash)}- &${item.anchor}`);
      for (const entry of item.pairs) blockPair(entry, dash + 2, layout, out);
    } else {
      blockValue(`${pad(dash)}-`, item, dash, layout, out);
    }
  }
}

export type UserKind = 'exec-kubelogin' | 'auth-provider' | 'token' | 'cert' | 'exec-other';

export interface Generated {
  text: string;
  /** Names of the users, in order (duplicates included). */
  users: Array<{ name: string; kind: UserKind }>;
  contexts: string[];
  /** What was mixed in, for statistics. */
  features: string[];
}

function userBody(kind: UserKind, r: Random, shared: { tenant: string }, features: string[]): Pair[] {
  const tenant = r.chance(0.5) ? shared.tenant : r.pick(TENANTS);
  const pairs: Pair[] = [];
  if (kind === 'exec-kubelogin') {
    const equals = r.chance(0.3);
    const args = equals
      ? ['get-token', '--login=devicecode', `--server-id=${SERVER_ID}`, `--tenant-id=${tenant}`]
      : ['get-token', '--environment', 'AzurePublicCloud', '--server-id', SERVER_ID, '--client-id', CLIENT_ID, '--tenant-id', tenant, '--login', 'devicecode'];
    const argsNode: Node = { kind: 'seq', items: args.map((arg) => s(arg, r.chance(0.1) ? 'double' : undefined)), flow: r.chance(0.3) };
    const exec: Pair[] = [pair('apiVersion', s('client.authentication.k8s.io/v1beta1')), pair('args', argsNode), pair('command', s('kubelogin')), pair('env', s('null', 'raw'))];
    if (r.chance(0.6)) {
      exec.push(pair('installHint', s('\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n', 'literal')));
      features.push('blockScalar');
    }
    exec.push(pair('provideClusterInfo', s('false', 'raw')));
    pairs.push(pair('exec', { kind: 'map', pairs: exec, flow: r.chance(0.1) }));
  } else if (kind === 'auth-provider') {
    const config: Pair[] = [pair('apiserver-id', s(SERVER_ID)), pair('client-id', s(CLIENT_ID))];
    if (r.chance(0.7)) config.push(pair('config-mode', s(r.pick(['0', '1']), 'single')));
    config.push(pair('environment', s('AzurePublicCloud')), pair('tenant-id', s(tenant)));
    if (r.chance(0.2)) {
      config.push(pair('access-token', s('stale.access.token')), pair('expires-on', s('1600000000', 'double')));
      features.push('staleTokens');
    }
    pairs.push(pair('auth-provider', map([pair('config', { kind: 'map', pairs: config, flow: r.chance(0.15) }), pair('name', s('azure'))])));
  } else if (kind === 'token') {
    pairs.push(pair('token', s('static-token-of-another-tool')));
  } else if (kind === 'cert') {
    pairs.push(pair('client-certificate-data', s('LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==')), pair('client-key-data', s('LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=')));
  } else {
    pairs.push(pair('exec', map([pair('apiVersion', s('client.authentication.k8s.io/v1beta1')), pair('command', s('aws')), pair('args', seq([s('eks'), s('get-token')]))])));
  }
  // Keys people and other tools add.
  if (r.chance(0.15)) {
    pairs.splice(r.int(pairs.length + 1), 0, pair('as', s('impersonated-admin')));
    features.push('extraKey');
  }
  if (r.chance(0.12)) {
    const odd = r.pick<Pair>([
      { key: 'a#b', value: s('1') },
      { key: '1', value: s('x') },
      { key: 'odd: key', value: s('z'), keyStyle: 'double' },
      { key: 'x', value: s('y'), keyStyle: 'complex' },
      { key: "it's", value: s('q'), keyStyle: 'single' },
      { key: 'multi', value: s('one two', 'multiPlain') },
      { key: 'quoted', value: s('one two', 'multiDouble') },
      { key: 'folded', value: s('a long\ntext\n', 'folded') },
    ]);
    pairs.splice(r.int(pairs.length + 1), 0, odd);
    features.push('oddKey');
  }
  if (r.chance(0.08)) {
    pairs.push(pair('extensions', seq([map([pair('name', s('other-tool')), pair('extension', map([pair('kept', s('yes', 'double'))]))])])));
    features.push('otherExtension');
  }
  if (r.chance(0.05)) {
    pairs.push(pair('extensions', seq([], true)));
    features.push('emptyExtensions');
  }
  return pairs;
}

export interface GenerateOptions {
  /** Mostly the layout az and kubectl write, or anything goes. */
  wild: boolean;
}

/** A generated kubeconfig. */
export function generateKubeconfig(random: Random, options: GenerateOptions = { wild: true }): Generated {
  const r = random;
  const wild = options.wild;
  const features: string[] = [];
  const layout: Layout = {
    eol: wild && r.chance(0.2) ? '\r\n' : '\n',
    step: wild && r.chance(0.2) ? 4 : 2,
    indentless: !wild || r.chance(0.7),
    random: r,
    trailing: wild && r.chance(0.2) ? 0.15 : 0,
    comments: wild && r.chance(0.5) ? 0.12 : 0,
  };
  if (layout.eol === '\r\n') features.push('crlf');
  if (!layout.indentless) features.push('indentedLists');
  if (layout.trailing > 0) features.push('trailingWhitespace');
  if (layout.comments > 0) features.push('comments');

  const shared = { tenant: r.pick(TENANTS) };
  const userCount = 1 + r.int(wild ? 5 : 4);
  const users: Array<{ name: string; kind: UserKind }> = [];
  const kinds: UserKind[] = ['exec-kubelogin', 'exec-kubelogin', 'exec-kubelogin', 'auth-provider', 'token', 'cert', 'exec-other'];
  const oddNames = ['clusterUser_rg_x', 'a b', 'yes', 'ü-user', "it's", 'with: colon', '0123', 'name#hash', '-dash'];
  for (let i = 0; i < userCount; i++) {
    let name = `clusterUser_rg-test_aks-${i}`;
    if (wild && r.chance(0.15)) name = r.pick(oddNames) + (r.chance(0.5) ? String(i) : '');
    if (wild && i > 0 && r.chance(0.05)) {
      name = users[r.int(users.length)]!.name;
      features.push('duplicateName');
    }
    users.push({ name, kind: r.pick(kinds) });
  }
  const clusterCount = 1 + r.int(3);
  const clusters = Array.from({ length: clusterCount }, (_, i) => `aks-${i}`);
  const contextCount = 1 + r.int(4);
  const contexts = Array.from({ length: contextCount }, (_, i) => `ctx-${i}`);

  // Anchors and aliases.
  let userAnchor: { user: number; name: string } | undefined;
  let aliasUser: number | undefined;
  const clusterBase = wild && r.chance(0.1);
  if (clusterBase) features.push('mergeKey');

  const userItems: Node[] = users.map((user, i) => {
    let body = userBody(user.kind, r, shared, features);
    let bodyNode: Node = { kind: 'map', pairs: body, flow: wild && r.chance(0.08) };
    if (wild && user.kind === 'exec-kubelogin' && userAnchor === undefined && r.chance(0.12)) {
      // An anchor on the args inside this user; maybe aliased by a later one.
      const exec = body.find((entry) => entry.key === 'exec');
      const args = exec?.value.kind === 'map' ? exec.value.pairs.find((entry) => entry.key === 'args') : undefined;
      if (args !== undefined && args.value.kind === 'seq') {
        args.value = { ...args.value, anchor: 'kl' };
        userAnchor = { user: i, name: 'kl' };
        features.push('anchorInUser');
      }
    } else if (wild && userAnchor !== undefined && aliasUser === undefined && r.chance(0.5)) {
      body = [pair('exec', map([pair('apiVersion', s('client.authentication.k8s.io/v1beta1')), pair('args', { kind: 'alias', name: userAnchor.name }), pair('command', s('kubelogin'))]))];
      bodyNode = { kind: 'map', pairs: body };
      aliasUser = i;
      user.kind = 'exec-kubelogin';
      features.push('aliasToUser');
    }
    const namePair: Pair = pair('name', s(user.name, user.name.startsWith('clusterUser') && r.chance(0.8) ? 'plain' : r.pick(['double', 'single', 'plain'] as const)));
    const userPair = pair('user', bodyNode);
    const ordered = wild && r.chance(0.2) ? [userPair, namePair] : [namePair, userPair];
    if (wild && r.chance(0.04)) ordered.push(pair('bogus', s('1')));
    return map(ordered, wild && r.chance(0.05));
  });

  const clusterItems: Node[] = clusters.map((name, i) => {
    const cluster: Pair[] = [];
    if (clusterBase && i > 0) cluster.push({ key: '<<', value: { kind: 'alias', name: 'base' } });
    cluster.push(pair('certificate-authority-data', s(Buffer.from(`ca-${i}-`.repeat(8)).toString('base64'))));
    cluster.push(pair('server', s(`https://10.0.${i}.1:443`)));
    const node: Node = { kind: 'map', pairs: cluster, ...(clusterBase && i === 0 ? { anchor: 'base' } : {}) };
    return map([pair('cluster', node), pair('name', s(name))]);
  });
  const contextItems: Node[] = contexts.map((name, i) =>
    map([
      pair('context', map([pair('cluster', s(clusters[i % clusters.length]!)), pair('user', s(users[i % users.length]!.name, PLAIN_SAFE.test(users[i % users.length]!.name) ? undefined : 'double')), ...(r.chance(0.3) ? [pair('namespace', s(`ns-${i}`))] : [])])),
      pair('name', s(name)),
    ]),
  );
  if (wild && r.chance(0.04)) {
    contextItems.push(contextItems[0]!);
    features.push('duplicateContext');
  }

  const top: Pair[] = [pair('apiVersion', s('v1')), pair('clusters', seq(clusterItems, wild && r.chance(0.05))), pair('contexts', seq(contextItems, wild && r.chance(0.05)))];
  const ccChoice = r.int(wild ? 8 : 2);
  let currentContextAlias = false;
  if (ccChoice === 0) top.push(pair('current-context', s(contexts[0]!)));
  else if (ccChoice === 2) top.push({ key: 'current-context', value: s(contexts[0]!), comment: '# the one we use' });
  else if (ccChoice === 3) top.push(pair('current-context', s(`${contexts[0]} old`, 'multiPlain')));
  else if (ccChoice === 4) {
    top.push(pair('current-context', { kind: 'scalar', value: contexts[0]!, anchor: 'cc' }));
    currentContextAlias = r.chance(0.5);
    features.push('anchoredCurrentContext');
  } else if (ccChoice === 5) top.push(pair('current-context', s('', 'double')));
  else if (ccChoice === 6) top.push(pair('current-context', s(contexts[0]!, 'single')));
  // 1, 7: no current-context
  top.push(pair('kind', s('Config')));
  top.push(pair('preferences', currentContextAlias ? map([pair('extensions', seq([map([pair('name', s('last')), pair('extension', map([pair('context', { kind: 'alias', name: 'cc' })]))])]))]) : map([], true)));
  top.push(pair('users', seq(userItems, wild && r.chance(0.05))));
  if (wild && r.chance(0.1)) {
    top.splice(1 + r.int(top.length - 1), 0, pair('x-notes', s('kept by hand', r.pick(['plain', 'literal', 'double'] as const))));
    features.push('unknownTopKey');
  }
  // Keys in another order now and then, as other tools write them.
  if (wild && r.chance(0.2)) {
    for (let i = top.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [top[i], top[j]] = [top[j]!, top[i]!];
    }
    features.push('shuffledKeys');
  }

  let text: string;
  if (wild && r.chance(0.06)) {
    text = flowText(map(top, true), layout).replace(/\n/g, ' ') + layout.eol;
    features.push('flowRoot');
  } else {
    const out: string[] = [];
    if (wild && r.chance(0.3)) out.push('# Kubeconfig merged by az aks get-credentials');
    for (const entry of top) blockPair(entry, 0, layout, out);
    text = out.join(layout.eol) + layout.eol;
  }
  if (wild && r.chance(0.08)) {
    text = `---${layout.eol}${text}`;
    features.push('documentStart');
  }
  if (wild && r.chance(0.05)) {
    text += `...${layout.eol}# after the end${layout.eol}`;
    features.push('documentEnd');
  }
  if (wild && r.chance(0.03)) {
    text += `---${layout.eol}apiVersion: v1${layout.eol}users: []${layout.eol}`;
    features.push('secondDocument');
  }
  if (wild && r.chance(0.1)) {
    text = `\ufeff${text}`;
    features.push('bom');
  }
  if (wild && r.chance(0.15)) {
    text = text.replace(/(?:\r?\n)+$/, '');
    features.push('noFinalNewline');
  }
  if (wild && r.chance(0.15)) {
    text = mutate(text, r);
    features.push('mutated');
  }
  return { text, users, contexts, features };
}

/** A few line-level edits of the kind a hand edit makes: some keep the file valid, some do not. */
function mutate(text: string, r: Random): string {
  const lines = text.split(/(?<=\n)/);
  for (let n = 1 + r.int(3); n > 0 && lines.length > 1; n--) {
    const at = r.int(lines.length);
    const line = lines[at]!;
    const eol = line.endsWith('\r\n') ? '\r\n' : line.endsWith('\n') ? '\n' : '';
    switch (r.int(7)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, line.endsWith('\n') ? line : line + '\n');
        break;
      case 2:
        lines[at] = ' ' + line;
        break;
      case 3:
        lines.splice(at, 0, `${' '.repeat(r.int(8))}# ${r.pick(['edited', 'key: value', '- item', '"', "'", '|', '&a', '*a'])}${eol || '\n'}`);
        break;
      case 4:
        lines[at] = line.replace(/^(\s*)/, '$1' + r.pick(['- ', '? ', '&x ', '!t ', '"', "'", '[', '{']));
        break;
      case 5:
        lines.splice(at, 0, eol || '\n');
        break;
      default:
        lines[at] = line.slice(0, line.length - eol.length) + r.pick([' #c', '\t', ' ', ': x', ' "q"', ' [a', ' }']) + eol;
    }
  }
  return lines.join('');
}
