// The kubeconfig inside a listClusterUserCredential answer: `kubeconfigs[0].value`, base64 of UTF-8 YAML. It
// is checked here as far as a caller needs to trust it (decodes, parses, has a cluster, a user and a context),
// and every complaint names what is wrong without quoting it: for local accounts it holds a credential.
import { parseDocument } from 'yaml';
import { ArmError } from './errors';

export function kubeconfigFromCredentialResults(body: unknown, what: string): string {
  const kubeconfigs = (body as { kubeconfigs?: unknown } | null)?.kubeconfigs;
  const first = Array.isArray(kubeconfigs) ? (kubeconfigs[0] as { value?: unknown } | undefined) : undefined;
  if (!first || typeof first.value !== 'string' || first.value === '') throw malformed(what, 'the answer holds no kubeconfig');
  const encoded = first.value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw malformed(what, 'its kubeconfig is not base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw malformed(what, 'its kubeconfig is not UTF-8 text');
  }
  // Kubeconfigs are small; the limit keeps alias expansion from turning a hostile document into gigabytes.
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) throw malformed(what, `its kubeconfig is not valid YAML (${document.errors[0]?.code ?? 'parse error'})`);
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch {
    throw malformed(what, 'its kubeconfig is not valid YAML');
  }
  const config = data as { clusters?: unknown; users?: unknown; contexts?: unknown } | null;
  for (const list of ['clusters', 'users', 'contexts'] as const) {
    const entries = config?.[list];
    if (!Array.isArray(entries) || entries.length === 0) throw malformed(what, `its kubeconfig has no ${list}`);
  }
  return text;
}

function malformed(what: string, why: string): ArmError {
  return new ArmError('badResponse', `Could not ${what}: Azure's answer cannot be used, ${why}. Try again; if it persists, use az aks get-credentials.`, { code: 'MalformedCredential', retryable: false });
}
