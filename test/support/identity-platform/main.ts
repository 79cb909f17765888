// Runs the identity platform double as its own process, for tests that drive the extension from outside
// (a real VS Code host, kubectl): prints one JSON line with where to reach it, then serves until signalled.
//   node out/test/support/identity-platform/main.js --port N --state-dir DIR [--host 127.0.0.2] [--token-lifetime S] [--poll-interval S]
import { parseArgs } from 'node:util';
import { createTestCa } from '../tls';
import { startIdentityPlatform } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string' },
      'state-dir': { type: 'string' },
      'token-lifetime': { type: 'string' },
      'poll-interval': { type: 'string' },
    },
  });
  const stateDir = values['state-dir'];
  if (!stateDir) throw new Error('--state-dir DIR is required (the test CA is made or reused there)');
  const ca = createTestCa(stateDir);
  const platform = await startIdentityPlatform({
    tls: { ...ca.serverCertificate, ca: ca.caPem },
    port: Number(values.port),
    host: values.host,
    tokenLifetimeSeconds: values['token-lifetime'] ? Number(values['token-lifetime']) : undefined,
  });
  if (values['poll-interval']) platform.controls.pollIntervalSeconds = Number(values['poll-interval']);
  process.stdout.write(`${JSON.stringify({ url: platform.url, caPath: ca.caPath, deviceLoginUrl: platform.deviceLoginUrl })}\n`);
  const stop = () => {
    void platform.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`identity platform failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
