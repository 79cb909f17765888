// Pure arithmetic of the refresh schedule, kept apart from timers so it can be checked exhaustively.

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: Backoff = { initialMs: 5_000, maxMs: 5 * 60_000 };

/**
 * The wait before retry number `attempt` (1-based): doubling from `initialMs` up to `maxMs`, then shortened
 * by up to half at random, so identities that failed together (one network outage) do not retry together.
 */
export function backoffDelayMs(attempt: number, backoff: Backoff, random: () => number): number {
  const doublings = Math.min(Math.max(Math.floor(attempt) - 1, 0), 52);
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** doublings);
  const draw = random();
  const fraction = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1) : 0;
  return Math.max(1, Math.round(ceiling * (1 - fraction / 2)));
}

/**
 * A stable fraction in [0, 1) for an id: FNV-1a followed by a 32-bit finaliser, because ids that differ only
 * in their last characters (user-1, user-2) must still land far apart.
 */
export function idFraction(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}

/**
 * A start time at least `spacingMs` away from every start already planned, within [earliest, latest].
 * Looks earlier than `wanted` first (refreshing early is harmless), then later up to `latest` (the window's
 * start). Each planned start can push the search at most once, so an earlier result is at most
 * 2 × spacingMs × planned.length before `wanted`. Undefined when no such slot exists.
 */
export function freeSlot(wanted: number, planned: readonly number[], spacingMs: number, earliest: number, latest = wanted): number | undefined {
  return searchSlot(wanted, planned, spacingMs, -1, earliest) ?? searchSlot(wanted, planned, spacingMs, 1, latest);
}

function searchSlot(wanted: number, planned: readonly number[], spacingMs: number, direction: -1 | 1, limit: number): number | undefined {
  let candidate = wanted;
  for (;;) {
    const clash = planned.find((start) => Math.abs(start - candidate) < spacingMs);
    if (clash === undefined) return candidate;
    candidate = clash + direction * spacingMs;
    if (direction * (candidate - limit) > 0) return undefined;
  }
}
