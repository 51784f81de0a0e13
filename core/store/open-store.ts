/**
 * Opens the store the configuration names: `embedded` (default; a data directory) or `qdrant`. The
 * composition root (bin/gateway.ts) and `isg store migrate` open stores through this one function.
 */
import { openEmbeddedStore, type Quantization, type Synchronous } from './embedded';
import { openQdrantStore, type QdrantStoreOptions } from './qdrant';
import type { VectorStore } from './vector-store';

export type StoreConfig =
  | { kind: 'embedded'; dir: string; annThreshold?: number; indexQuantization?: Quantization; synchronous?: Synchronous }
  | { kind: 'qdrant'; qdrant: Partial<QdrantStoreOptions> & { url: string } };

export const STORE_KINDS = ['embedded', 'qdrant'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export function openStore(config: StoreConfig): Promise<VectorStore> {
  if (config.kind === 'qdrant') return openQdrantStore(config.qdrant);
  const { dir, annThreshold, indexQuantization, synchronous } = config;
  return openEmbeddedStore({ dir, annThreshold, synchronous, ...(indexQuantization ? { hnsw: { quantization: indexQuantization } } : {}) });
}
