// Second line of defence: whatever reaches a log line or an error message passes through here, so a token
// that slipped into some library message is still not written anywhere.

const jwtShaped = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const secretParameter = /\b(refresh_token|access_token|id_token|device_code|client_secret|assertion|code)=([^&\s"']+)/gi;
const secretJsonField = /"(refresh_token|access_token|id_token|device_code|secret|client_secret)"\s*:\s*"[^"]*"/gi;

export function redactSecrets(text: string): string {
  return text
    .replace(jwtShaped, '[redacted token]')
    .replace(secretParameter, (_match, name: string) => `${name}=[redacted]`)
    .replace(secretJsonField, (_match, name: string) => `"${name}":"[redacted]"`);
}
