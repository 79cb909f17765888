// MSAL's token cache persisted in the SecretStore, one secret per client id. Several MSAL clients (one per
// authority) can share a client id and so one secret; each remembers which version of the secret it last
// loaded, so none of them overwrites another's accounts with a stale copy.
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Logger, SecretStore } from '../ports';

export function cacheSecretKey(clientId: string): string {
  return `aksSignIn.msalCache.${clientId}`;
}

// An empty but well-formed cache; deserializing it clears a client's memory when the secret is gone.
const emptyCache = JSON.stringify({ Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} });

/** The persisted cache text of one client id, as this process last read or wrote it. */
export class SharedCacheSecret {
  readonly key: string;
  private text: string | undefined;
  private loaded = false;
  private stale = false;
  /** Bumped whenever the text changes, so each MSAL client knows whether its memory is current. */
  private generation = 0;

  constructor(
    private readonly secretStore: SecretStore,
    clientId: string,
    private readonly logger: Logger,
  ) {
    this.key = cacheSecretKey(clientId);
  }

  /** Another window (or anyone) changed the secret: read it again before the next use. */
  markStale(): void {
    this.stale = true;
  }

  async current(): Promise<{ text: string | undefined; generation: number }> {
    if (!this.loaded || this.stale) {
      this.stale = false;
      const text = await this.secretStore.get(this.key);
      if (!this.loaded || text !== this.text) {
        this.text = text;
        this.generation++;
      }
      this.loaded = true;
    }
    return { text: this.text, generation: this.generation };
  }

  /** The last known text without touching the store; what the refresh-token lookup reads after an operation. */
  lastKnownText(): string | undefined {
    return this.text;
  }

  async write(text: string): Promise<number> {
    if (this.loaded && text === this.text) return this.generation;
    this.text = text;
    this.loaded = true;
    this.generation++;
    const generation = this.generation;
    await this.secretStore.store(this.key, text);
    this.logger.debug(`Saved the sign-in cache for ${this.key}.`);
    return generation;
  }
}

/** The ICachePlugin for one MSAL client over a shared secret. */
export class SecretCachePlugin implements ICachePlugin {
  private loadedGenerationNumber = -1;

  constructor(
    private readonly secret: SharedCacheSecret,
    private readonly logger: Logger,
  ) {}

  hasLoaded(): boolean {
    return this.loadedGenerationNumber !== -1;
  }

  loadedGeneration(): number {
    return this.loadedGenerationNumber;
  }

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    const { text, generation } = await this.secret.current();
    // Always deserialize: MSAL clears its memory before some accesses (overwriteCache) and expects it refilled.
    try {
      context.tokenCache.deserialize(text && text.trim() !== '' ? text : emptyCache);
    } catch {
      // A damaged cache cannot be repaired; starting empty only costs a new sign-in.
      this.logger.warn(`The saved sign-in cache ${this.secret.key} could not be read and is ignored; sign in again.`);
      context.tokenCache.deserialize(emptyCache);
    }
    this.loadedGenerationNumber = generation;
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (!context.cacheHasChanged) return;
    this.loadedGenerationNumber = await this.secret.write(context.tokenCache.serialize());
  }
}
