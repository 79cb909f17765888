// Entry point VS Code calls in the extension host for the sign-in methods suite.
import { runHostFiles } from '../suite';

export function run(): Promise<void> {
  return runHostFiles(__dirname, 180_000);
}
