// Proves the chain the other host tests build on: the extension under development loads and activates
// in a real VS Code, and tests in the extension host can reach the browser through the harness.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { harness } from '../harness/client';
import { smokeTlsVariable } from './settings';

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

  describe('pages the browser opens by itself', () => {
    const requested: string[] = [];
    let httpsServer: HttpsServer;
    let httpServer: Server;

    const answer = (req: { url?: string }, res: ServerResponse) => {
      requested.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1 id="requested">${(req.url ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')}</h1>`);
    };

    before(async () => {
      const tlsDir = process.env[smokeTlsVariable];
      assert.ok(tlsDir, `${smokeTlsVariable} names the test CA's folder`);
      httpsServer = createHttpsServer({ key: readFileSync(join(tlsDir, 'server.key')), cert: readFileSync(join(tlsDir, 'server.crt')) }, answer);
      httpServer = createServer(answer);
      await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.2', resolve));
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    });

    after(async () => {
      await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    });

    it('openExternal on a trusted 127.0.0.2 URL opens it in a new tab with path and query intact', async () => {
      const { port } = httpsServer.address() as AddressInfo;
      const url = `https://127.0.0.2:${port}/some/path?x=1&y=2`;
      const expected = await harness.expectPage(`https://127.0.0.2:${port}/`);
      const opened = vscode.env.openExternal(vscode.Uri.parse(url));
      const page = await expected.take(15_000);
      try {
        assert.equal(page.url, url);
        assert.equal(await opened, true);
        assert.deepEqual(await harness.steps(page.pageId, [{ text: '#requested' }]), ['/some/path?x=1&y=2']);
        assert.ok(requested.includes('/some/path?x=1&y=2'), `the server saw ${requested.join(', ')}`);
        await harness.screenshot('open-external-tab', page.pageId);
      } finally {
        await harness.closePage(page.pageId);
      }
    });

    it('openExternal on a site that is not trusted fails in a test run: VS Code refuses to show its dialog there', async () => {
      const expected = await harness.expectPage('');
      const opened = Promise.resolve(vscode.env.openExternal(vscode.Uri.parse('https://127.0.0.3:9/some/path?x=1&y=2')));
      // Taken whatever happens to openExternal, so the expectation cannot catch the next test's page.
      const page = expected.take(2000);
      await assert.rejects(opened, /^Error: DialogService: refused to show dialog in tests\. Contents: Do you want code-server to open the external website\?$/);
      await assert.rejects(page, /opened no page$/);
    });

    it('openExternal on a 127.0.0.1 URL goes to code-server\'s port proxy instead, without path and query', async () => {
      const { port } = httpServer.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/some/path?x=1&y=2`;
      requested.length = 0;
      const expected = await harness.expectPage('');
      // No dialog: VS Code counts 127.0.0.1 and localhost as trusted, then code-server rewrites the URL.
      const opened = await vscode.env.openExternal(vscode.Uri.parse(url));
      const page = await expected.take(15_000);
      try {
        const landed = new URL(page.url);
        console.log(`openExternal(${url}) opened ${page.url}`);
        assert.equal(opened, true);
        assert.notEqual(landed.port, String(port), 'not the URL that was asked for');
        assert.equal(landed.pathname, `/proxy/${port}/`);
        assert.equal(landed.search, '');
        assert.ok(!requested.includes('/some/path?x=1&y=2'), 'the path and query never reached the server');
      } finally {
        await harness.closePage(page.pageId);
      }
    });
  });
});
