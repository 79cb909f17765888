// Entry point VS Code calls in the extension host for the several-windows suite.
import { runHostFiles } from '../suite';

export function run(): Promise<void> {
  return runHostFiles(__dirname, 300_000);
}
