/** The embedded store: durable on local disk in a data directory, no server. */
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store';

export { EmbeddedStore, DEFAULT_ANN_THRESHOLD, type EmbeddedStoreOptions } from './embedded-store';
export type { AnnStatus } from './library-runtime';
export { DEFAULT_HNSW, type HnswParams, type Quantization } from './ann-index';
export type { SearchPath } from './library-search';
export type { Synchronous } from './schema';

/**
 * Opens (creating if needed) the store in `opts.dir`. Fast whatever the data size: libraries are loaded
 * into memory, and their ANN indexes loaded or built, on first search.
 */
export function openEmbeddedStore(opts: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(opts);
}
