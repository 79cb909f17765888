// Entry point VS Code calls in the extension host for the end-to-end sign-in suite.
import { runHostFiles } from '../suite';

export function run(): Promise<void> {
  return runHostFiles(__dirname, 240_000);
}
