// Entry point VS Code calls in the extension host for the Azure discovery suite.
import { runHostFiles } from '../suite';

export function run(): Promise<void> {
  return runHostFiles(__dirname, 180_000);
}
