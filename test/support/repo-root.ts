// The repository root, found from wherever the compiled code lives (out/, bench/.out, a private folder).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

let found: string | undefined;

/** The nearest folder above this module whose package.json is this extension's. */
export function repoRoot(): string {
  if (found) return found;
  const start = resolve(__dirname);
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'aks-signin') return (found = dir);
    if (dirname(dir) === dir) throw new Error(`no aks-signin package.json above ${start}`);
  }
}
