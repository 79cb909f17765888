// One credential write as its own process, the unit kubectl is measured in: `node write-once.js FILE USER`
// with the token in BENCH_TOKEN. Node's start and module loading count, as they would for any CLI.
import { writeCredentials } from '../src/core/kubeconfig';

async function main(): Promise<void> {
  const [file, user] = process.argv.slice(2);
  const token = process.env.BENCH_TOKEN;
  if (!file || !user || !token) throw new Error('usage: BENCH_TOKEN=... node write-once.js FILE USER');
  const expiresInSeconds = 3599;
  await writeCredentials(file, user, { format: 'token', accessToken: token, expiresOn: new Date(Date.now() + expiresInSeconds * 1000), expiresInSeconds });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
