// Proves the chain the other host tests build on: the extension under development loads and activates
// in a real VS Code, and tests in the extension host can reach the browser through the harness.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import { harness } from '../harness/client';

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('the extension in a real VS Code', () => {
  it('is loaded from the development folder and activates', async () => {
    const extension = vscode.extensions.getExtension('aks-signin.aks-signin');
    assert.ok(extension, 'aks-signin.aks-signin is installed');
    assert.equal(extension.packageJSON.displayName, 'AKS Sign-In');
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('runs in a Node extension host beside the workspace', () => {
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    assert.equal(typeof process.versions.node, 'string');
    assert.equal(vscode.workspace.workspaceFolders?.length, 1);
  });

  it('saves a screenshot of the workbench through the harness', async () => {
    void vscode.window.showInformationMessage('AKS Sign-In host smoke test');
    const path = await harness.screenshot('workbench-smoke');
    const png = readFileSync(path);
    assert.deepEqual(png.subarray(0, 8), pngSignature);
    assert.ok(png.length > 5000, `a real workbench screenshot, not ${png.length} bytes`);
  });

  describe('a second browser page driven through the harness', () => {
    let server: Server;
    const submitted: string[] = [];

    before(async () => {
      server = createServer((req, res) => {
        if (req.method === 'POST') {
          let body = '';
          req.on('data', (chunk: Buffer) => (body += chunk.toString()));
          req.on('end', () => {
            const code = new URLSearchParams(body).get('code') ?? '';
            submitted.push(code);
            res.writeHead(200, { 'content-type': 'text/html' }).end(`<p id="result">Accepted code ${code}</p>`);
          });
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' }).end(
          '<form method="post" action="/submit"><label for="code">Code</label><input id="code" name="code"><button type="submit">Next</button></form>',
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fills a field by its label, clicks a button by its name and reads the result', async () => {
      const { port } = server.address() as AddressInfo;
      const pageId = await harness.openPage();
      try {
        const texts = await harness.steps(pageId, [
          { goto: `http://127.0.0.1:${port}/` },
          { fill: 'Code', value: 'HOST-7421' },
          { click: 'Next' },
          { waitForText: 'Accepted code' },
          { text: '#result' },
        ]);
        assert.deepEqual(texts, ['Accepted code HOST-7421']);
        assert.deepEqual(submitted, ['HOST-7421']);
      } finally {
        await harness.closePage(pageId);
      }
    });

    it('reports a step that cannot be done as an error naming the step', async () => {
      const { port } = server.address() as AddressInfo;
      const pageId = await harness.openPage(`http://127.0.0.1:${port}/`);
      try {
        await assert.rejects(harness.steps(pageId, [{ click: 'No such button' }], 1000), /step 1 .*No such button/);
      } finally {
        await harness.closePage(pageId);
      }
    });
  });
});
