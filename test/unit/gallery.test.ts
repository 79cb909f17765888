// The Marketplace page and the Welcome walkthrough are read from the manifest: broken paths or command
// links there fail silently in VS Code (an empty media pane, a button that does nothing), so check them here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string };
  completionEvents?: string[];
}

const root = repoRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  icon: string;
  galleryBanner: { color: string; theme: string };
  repository?: unknown;
  contributes: { commands: { command: string }[]; walkthroughs: { id: string; title: string; steps: Step[] }[] };
};

test('the gallery icon is a 128x128 PNG rendered from the committed SVG', () => {
  const png = readFileSync(join(root, manifest.icon));
  assert.deepEqual(png.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
  assert.ok(existsSync(join(root, manifest.icon.replace(/\.png$/, '.svg'))), 'the SVG source sits beside the PNG');
  assert.match(manifest.galleryBanner.color, /^#[0-9a-f]{6}$/i);
  assert.ok(['dark', 'light'].includes(manifest.galleryBanner.theme));
});

test('no made-up repository URL is published', () => {
  assert.equal(manifest.repository, undefined);
});

test('the walkthrough "Sign in to AKS" has four steps whose media and command links resolve', () => {
  const [walkthrough, ...others] = manifest.contributes.walkthroughs;
  assert.equal(others.length, 0);
  assert.ok(walkthrough);
  assert.equal(walkthrough.title, 'Sign in to AKS');
  assert.deepEqual(
    walkthrough.steps.map((step) => step.title),
    ['Get a skeleton kubeconfig', 'Sign in', 'Watch the status bar', 'Use kubectl'],
  );
  const ours = new Set(manifest.contributes.commands.map((entry) => entry.command));
  const builtIn = new Set(['workbench.action.terminal.new']);
  for (const step of walkthrough.steps) {
    assert.ok(step.media.markdown, `${step.id} has a markdown media file`);
    const markdown = readFileSync(join(root, step.media.markdown), 'utf8');
    assert.match(markdown, /^# \S/, `${step.media.markdown} starts with a heading`);
    const links = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((match) => match[1] as string);
    assert.equal(links.length, 1, `${step.id} offers one button`);
    for (const command of links) assert.ok(ours.has(command) || builtIn.has(command), `${step.id} links to a known command ${command}`);
    assert.ok((step.completionEvents ?? []).length > 0, `${step.id} can be completed`);
  }
  assert.match(walkthrough.steps[0]!.description, /az aks get-credentials/);
  assert.match(walkthrough.steps[1]!.description, /\(command:aksSignIn\.signIn\)/);
  assert.match(walkthrough.steps[3]!.description, /kubectl get namespaces/);
});
