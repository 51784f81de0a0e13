/**
 * Settings of the Qdrant store (config file `store.qdrant`, schemas/config.json). Collection-level ones
 * (shards, replication, write consistency, HNSW build, quantization) apply when the store creates a
 * collection; changing them later needs a collection update (docs/operations.md).
 */
export interface QdrantHnswOptions {
  /** Edges per node of the global graph (Qdrant default 16). */
  m: number;
  /** Edges per node of the per-library graphs built along the tenant index (0 = none). */
  payloadM: number;
  efConstruct: number;
  /** Search-time beam; higher = better recall, slower. Undefined = Qdrant's default. */
  efSearch?: number;
  /** Below this many KiB of candidate vectors Qdrant scans instead of walking the graph. */
  fullScanThreshold?: number;
  onDisk: boolean;
}

export type QdrantQuantization =
  | { kind: 'none' }
  | { kind: 'scalar'; alwaysRam: boolean; quantile?: number; rescore: boolean; oversampling?: number }
  | { kind: 'binary'; alwaysRam: boolean; rescore: boolean; oversampling?: number };

export interface QdrantStoreOptions {
  url: string;
  apiKey?: string;
  /** Every collection of this store starts with it; several gateways may share a Qdrant with different ones. */
  collectionPrefix: string;
  /** Per request, ms. A request that takes longer counts as Qdrant being unavailable. */
  timeoutMs: number;
  /** Extra attempts of an idempotent read after Qdrant was unreachable, timed out or overloaded. */
  readRetries: number;
  shardNumber?: number;
  replicationFactor?: number;
  writeConsistencyFactor?: number;
  /** Keep payloads (records) on disk rather than in RAM. */
  onDiskPayload: boolean;
  /** Keep the original float vectors on disk (memory-mapped); with quantization `alwaysRam` searches stay in RAM. */
  vectorsOnDisk?: boolean;
  hnsw: QdrantHnswOptions;
  quantization: QdrantQuantization;
  /** Search every query exactly (no graph); the benchmark's reference figures use it. */
  exactSearch?: boolean;
}

export const QDRANT_DEFAULTS: Omit<QdrantStoreOptions, 'url'> = {
  collectionPrefix: 'isg',
  timeoutMs: 10_000,
  readRetries: 2,
  onDiskPayload: true,
  hnsw: { m: 16, payloadM: 16, efConstruct: 100, onDisk: false },
  quantization: { kind: 'none' },
};

/** The defaults with the given settings on top (nested objects merged one level deep). */
export function qdrantOptions(given: Partial<QdrantStoreOptions> & { url: string }): QdrantStoreOptions {
  return {
    ...QDRANT_DEFAULTS,
    ...given,
    hnsw: { ...QDRANT_DEFAULTS.hnsw, ...given.hnsw },
    quantization: given.quantization ?? QDRANT_DEFAULTS.quantization,
  };
}
