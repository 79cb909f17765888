// The last line of defence against a token reaching a log line or a message: anything shaped like a
// JWT, or the value of a token-bearing field in a form body, JSON or a kubeconfig, is replaced before
// it is written anywhere a person can see it.
import type { Logger } from './ports';

const jwtShaped = /\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const secretNames = 'access_token|refresh_token|id_token|device_code|client_secret|assertion';
const formParameter = new RegExp(`\\b(${secretNames}|code)=([^&\\s"']+)`, 'gi');
const jsonField = new RegExp(`"(${secretNames}|secret)"\\s*:\\s*"[^"]*"`, 'gi');
// Kubeconfig keys: access-token, refresh-token, token (YAML, quoted or not).
const kubeconfigField = /(^|[\s{,])((?:access-|refresh-)?token)(:\s*["']?)([^\s"',}]{8,})/gim;

export function redactSecrets(text: string): string {
  return text
    .replace(jwtShaped, '[redacted token]')
    .replace(formParameter, (_match, name: string) => `${name}=[redacted]`)
    .replace(jsonField, (_match, name: string) => `"${name}":"[redacted]"`)
    .replace(kubeconfigField, (_match, lead: string, name: string, separator: string) => `${lead}${name}${separator}[redacted]`);
}

export function redactingLogger(logger: Logger): Logger {
  return {
    trace: (message) => logger.trace(redactSecrets(message)),
    debug: (message) => logger.debug(redactSecrets(message)),
    info: (message) => logger.info(redactSecrets(message)),
    warn: (message) => logger.warn(redactSecrets(message)),
    error: (message) => logger.error(redactSecrets(message)),
  };
}
