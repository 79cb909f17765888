// A writer to be killed: rewrites one user's credentials in a loop, switching between the token and the
// legacy form with tokens of varying length, and says on stdout which write it starts and finishes.
// Usage: node crash-writer.js <kubeconfig> <user> <first write index>
import { writeCredentials } from '../../src/core/kubeconfig';
import { numberedToken } from './support';

async function main(): Promise<void> {
  const [file, user, first] = process.argv.slice(2);
  if (file === undefined || user === undefined || first === undefined) throw new Error('usage: crash-writer <kubeconfig> <user> <first index>');
  // Writes to a pipe are synchronous on Linux, so the parent has each line before the write it names begins.
  process.stdout.write('ready\n');
  for (let index = Number(first); ; index++) {
    process.stdout.write(`start ${index}\n`);
    await writeCredentials(
      file,
      user,
      {
        format: index % 3 === 0 ? 'legacy' : 'token',
        accessToken: numberedToken(index, (index * 7919) % 30_000),
        refreshToken: `0.A${index}`,
        expiresOn: new Date(1_900_000_000_000),
        expiresInSeconds: 3599,
      },
      { lockTimeoutMs: 60_000 },
    );
    process.stdout.write(`done ${index}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
