// Runs kubeconfig operations in a worker thread, so a test can bound them with a timeout that also stops a
// parser stuck in a synchronous loop (a promise race cannot interrupt that).
import { parentPort } from 'node:worker_threads';
import { KubeconfigError, clearCredentials, patchClear, patchCredentials, readKubeconfig, writeCredentials } from '../../src/core/kubeconfig';
import { parseKubeconfigText } from '../../src/core/kubeconfig/read';

export type WorkerRequest =
  | { id: number; op: 'read' | 'clear'; file: string; user: string }
  | { id: number; op: 'write'; file: string; user: string; token: string }
  | { id: number; op: 'patch'; text: string; user: string; token: string };

export type WorkerReply =
  | { id: number; outcome: 'ok'; users?: string[]; patched?: string; cleared?: string; parsedInput?: boolean; patchedProblem?: string }
  | { id: number; outcome: 'kubeconfigError'; kind: string; message: string; file: string }
  | { id: number; outcome: 'otherError'; name: string; message: string; stack?: string };

const credentials = (token: string) => ({ format: 'token' as const, accessToken: token, expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 });

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  const { id } = request;
  try {
    switch (request.op) {
      case 'read': {
        const view = await readKubeconfig([request.file]);
        return { id, outcome: 'ok', users: [...view.users.keys()] };
      }
      case 'write':
        await writeCredentials(request.file, request.user, credentials(request.token), { lockTimeoutMs: 200 });
        return { id, outcome: 'ok' };
      case 'clear':
        await clearCredentials(request.file, request.user, { lockTimeoutMs: 200 });
        return { id, outcome: 'ok' };
      case 'patch': {
        let parsedInput = true;
        try {
          parseKubeconfigText(request.text, 'fuzz.yaml');
        } catch (error) {
          if (!(error instanceof KubeconfigError)) throw error;
          parsedInput = false;
        }
        const patched = patchCredentials(request.text, 'fuzz.yaml', request.user, credentials(request.token));
        const cleared = patchClear(patched, 'fuzz.yaml', request.user);
        // When the input was a whole, valid kubeconfig, the patched text must be one too, holding the token.
        let patchedProblem: string | undefined;
        if (parsedInput) {
          try {
            const users = parseKubeconfigText(patched, 'fuzz.yaml')['users'];
            const entry = Array.isArray(users) ? (users as Array<{ name?: unknown; user?: { token?: unknown } }>).find((candidate) => candidate?.name === request.user) : undefined;
            if (entry?.user?.token !== request.token) patchedProblem = 'the patched text does not hold the token in the user entry';
          } catch (error) {
            patchedProblem = `the patched text no longer parses: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
        return { id, outcome: 'ok', patched, cleared, parsedInput, ...(patchedProblem !== undefined ? { patchedProblem } : {}) };
      }
    }
  } catch (error) {
    if (error instanceof KubeconfigError) return { id, outcome: 'kubeconfigError', kind: error.kind, message: error.message, file: error.file };
    const failure = error instanceof Error ? error : new Error(String(error));
    return { id, outcome: 'otherError', name: failure.name, message: failure.message, stack: failure.stack };
  }
}

parentPort?.on('message', (request: WorkerRequest) => {
  void handle(request).then((reply) => parentPort?.postMessage(reply));
});
