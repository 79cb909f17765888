// Before a sign-in shows a code: would the write that follows it succeed? The same checks the write
// makes, in the same order, with a placeholder token of the real shape, and nothing written: so a
// person never finishes the device-code flow only to hear that the file cannot take the token.
import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KubeconfigText } from './entries';
import { fileSystemError } from './errors';
import type { CredentialFormat } from './identity';
import { waitForNoLock } from './lock';
import { planCredentials, type Credentials } from './patch';
import { applyEdits, checkLineBreaks } from './text';
import { verifyUserPlan } from './verify';
import { checkWritable, lockOptions, readText, resolveTarget, type WriteOptions } from './write';

/** A token with the shape and length of an Entra ID access token, and nothing in it. */
function placeholder(format: CredentialFormat): Credentials {
  const part = (length: number) => 'A'.repeat(length);
  return {
    format,
    accessToken: `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${part(1400)}.${part(342)}`,
    ...(format === 'legacy' ? { refreshToken: `0.A${part(1200)}` } : {}),
    expiresOn: new Date(Date.UTC(2100, 0, 1)),
    expiresInSeconds: 3599,
  };
}

/**
 * Throws the KubeconfigError the credential write for `userName` would throw (malformed or not a
 * kubeconfig, duplicate names in any list, an entry that cannot be patched or whose result would not verify, a
 * read-only file or folder, a held or stale lock), without writing anything.
 */
export async function checkCredentialWrite(file: string, userName: string, format: CredentialFormat, options: WriteOptions = {}): Promise<void> {
  const target = await resolveTarget(file);
  await waitForNoLock(file, lockOptions(options));
  const { text, ascii } = await readText(target, file);
  if (!ascii) checkLineBreaks(text, file);
  // Exactly the write's checks: below 64 KB that includes a parse of the whole file, so malformed YAML
  // anywhere is reported; above, the scan and the entry itself (a big file is not parsed whole on a
  // write either, so refusing it here for a flaw elsewhere would refuse what the write would do).
  const model = new KubeconfigText(text, file);
  model.checkDuplicates();
  const plan = planCredentials(model, userName, placeholder(format));
  verifyUserPlan(model, plan, applyEdits(text, plan.edits), { mode: options.verification });
  await checkWritable(target, file);
  // client-go's lock goes beside the path as given, which may be a link in another folder.
  try {
    await access(dirname(file), constants.W_OK);
  } catch (error) {
    throw fileSystemError(error, file, 'write');
  }
}
