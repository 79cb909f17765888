export { type KeeperOptions, type KeeperState, type PlannedRefresh, type RefreshOutcome, RefreshFailure, TokenKeeper } from './keeper';
export { type Backoff, backoffDelayMs, defaultBackoff, freeSlot, idFraction } from './schedule';
