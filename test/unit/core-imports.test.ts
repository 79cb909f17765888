// src/core must stay runnable in plain Node: nothing under it may import the `vscode` module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root';

const coreRoot = join(repoRoot(), 'src', 'core');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const importsVscode = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]vscode['"]/;

test('nothing under src/core imports vscode', () => {
  const files = sourceFiles(coreRoot);
  assert.ok(files.length > 0, 'src/core has source files');
  const offenders = files.filter((file) => importsVscode.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});

test('the import check recognises every form of importing vscode', () => {
  for (const line of ["import * as vscode from 'vscode';", 'import "vscode";', "const v = require('vscode');", "await import('vscode')"]) {
    assert.match(line, importsVscode);
  }
  assert.doesNotMatch("import { x } from './vscode-free';", importsVscode);
});
