/** The Qdrant store: vectors, records and tasks in a Qdrant (one node or a cluster); see docs/operations.md. */
import { QdrantStore } from './qdrant-store';
import type { QdrantStoreOptions } from './options';

export { QdrantStore } from './qdrant-store';
export { QDRANT_DEFAULTS, qdrantOptions, type QdrantStoreOptions, type QdrantHnswOptions, type QdrantQuantization } from './options';
export { compileFilter, type CompiledFilter, type QdrantFilter } from './filter-compiler';

/** Opens the store; the server is first contacted by the first operation. */
export function openQdrantStore(options: Partial<QdrantStoreOptions> & { url: string }): Promise<QdrantStore> {
  return QdrantStore.open(options);
}
