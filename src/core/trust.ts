// What an untrusted workspace may decide. In Restricted Mode a folder someone just cloned must not choose
// the file that receives tokens, where sign-in goes, the program we run, or a credential form that puts a
// refresh token on disk: those settings count only from the person's own (user or machine) settings, and
// even there a path may not point into the untrusted folder.
import { isAbsolute } from 'node:path';

/** The shape of VS Code's `WorkspaceConfiguration.inspect()` that matters here. */
export interface InspectedSetting<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The effective value, leaving out workspace and folder values when the workspace is not trusted. */
export function trustedValue<T>(inspected: InspectedSetting<T> | undefined, trusted: boolean): T | undefined {
  if (!inspected) return undefined;
  if (trusted) return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue ?? inspected.defaultValue;
  return inspected.globalValue ?? inspected.defaultValue;
}

export type PathDecision = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Whether a path from a setting may be used as it is. Trusted: always (it is expanded later). Untrusted:
 * only a path that names one place on its own — absolute, `~/…` or `${userHome}/…` — because a relative
 * path or `${workspaceFolder}` resolves into the folder that is not trusted.
 */
export function pathInRestrictedMode(setting: string, value: string, trusted: boolean): PathDecision {
  const path = value.trim();
  if (trusted || path === '') return { ok: true, path };
  if (path.includes('${workspaceFolder')) {
    return { ok: false, reason: `${setting} uses \${workspaceFolder}, which points into this untrusted folder; it is ignored in Restricted Mode. Trust the folder, or use an absolute path.` };
  }
  const homeRelative = path === '~' || path.startsWith('~/') || path.startsWith('~\\') || path.startsWith('${userHome}');
  if (!homeRelative && !isAbsolute(path)) {
    return { ok: false, reason: `${setting} is the relative path "${path}", which would point into this untrusted folder; it is ignored in Restricted Mode. Trust the folder, or use an absolute path.` };
  }
  return { ok: true, path };
}
