import type { TokenPair } from '../api/types';
import type { KeyValueStore } from '../storage/keyValueStore';

const TOKENS_KEY = 'ayka.tokens.v1';

type Listener = (signedIn: boolean) => void;

/**
 * Holds the person's access and refresh tokens, in memory and in a persistent store, and tells
 * listeners when the app becomes signed in or out.
 */
export class TokenStore {
  private pair: TokenPair | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly store: KeyValueStore) {}

  /** Reads the saved pair (once, at start-up). */
  async load(): Promise<TokenPair | null> {
    const raw = await this.store.getItem(TOKENS_KEY);
    this.pair = raw ? (JSON.parse(raw) as TokenPair) : null;
    return this.pair;
  }

  get current(): TokenPair | null {
    return this.pair;
  }

  async save(pair: TokenPair): Promise<void> {
    const wasSignedIn = this.pair !== null;
    this.pair = pair;
    await this.store.setItem(TOKENS_KEY, JSON.stringify(pair));
    if (!wasSignedIn) this.emit(true);
  }

  async clear(): Promise<void> {
    const wasSignedIn = this.pair !== null;
    this.pair = null;
    await this.store.removeItem(TOKENS_KEY);
    if (wasSignedIn) this.emit(false);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(signedIn: boolean): void {
    for (const listener of this.listeners) listener(signedIn);
  }
}
