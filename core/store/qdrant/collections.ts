/**
 * Creating the store's collections and payload indexes on first need, with the settings of options.ts.
 * Creation is idempotent across processes: a collection another gateway created first is simply used.
 */
import type { QdrantClient } from '@qdrant/js-client-rest';
import { httpStatusOf } from './failures';
import { IMAGE_KEYWORD_INDEXES, tagPath, type TagView } from './layout';
import type { QdrantStoreOptions } from './options';

type CreateCollectionArgs = Parameters<QdrantClient['createCollection']>[1];
type FieldSchema = 'keyword' | 'float' | 'bool' | { type: 'keyword'; is_tenant: true };

/** The typed tag views a filter reads, with the index each gets. `t` (text) gets none, on purpose: see filter-compiler.ts. */
const TAG_VIEW_INDEX: Partial<Record<TagView, FieldSchema>> = { string: 'keyword', number: 'float', numeric: 'float', boolean: 'bool' };

/** The request that creates an image collection of this dimension (exported for the request-shape tests). */
export function imagesCollectionSpec(options: QdrantStoreOptions, dimension: number, multivector = false): CreateCollectionArgs {
  const { hnsw, quantization } = options;
  const vectors = { size: dimension, distance: 'Dot' as const, on_disk: options.vectorsOnDisk ?? false };
  const spec: CreateCollectionArgs = {
    // A library with views: each point one row per view; max_sim of a one-row query is its best row.
    vectors: multivector ? { ...vectors, multivector_config: { comparator: 'max_sim' } } : vectors,
    hnsw_config: {
      m: hnsw.m,
      payload_m: hnsw.payloadM,
      ef_construct: hnsw.efConstruct,
      on_disk: hnsw.onDisk,
      ...(hnsw.fullScanThreshold !== undefined ? { full_scan_threshold: hnsw.fullScanThreshold } : {}),
    },
    on_disk_payload: options.onDiskPayload,
    ...clusterSettings(options),
  };
  if (quantization.kind === 'scalar') {
    spec.quantization_config = {
      scalar: { type: 'int8', always_ram: quantization.alwaysRam, ...(quantization.quantile !== undefined ? { quantile: quantization.quantile } : {}) },
    };
  } else if (quantization.kind === 'binary') {
    spec.quantization_config = { binary: { always_ram: quantization.alwaysRam } };
  }
  return spec;
}

/** Meta and blob collections: a 1-dimensional placeholder vector, no graph worth building. */
export function plainCollectionSpec(options: QdrantStoreOptions, onDiskPayload: boolean): CreateCollectionArgs {
  return { vectors: { size: 1, distance: 'Dot' }, hnsw_config: { m: 0 }, on_disk_payload: onDiskPayload, ...clusterSettings(options) };
}

function clusterSettings(options: QdrantStoreOptions): Partial<CreateCollectionArgs> {
  const out: Partial<CreateCollectionArgs> = {};
  if (options.shardNumber !== undefined) out.shard_number = options.shardNumber;
  if (options.replicationFactor !== undefined) out.replication_factor = options.replicationFactor;
  if (options.writeConsistencyFactor !== undefined) out.write_consistency_factor = options.writeConsistencyFactor;
  return out;
}

export const META_INDEXES: Record<string, FieldSchema> = { kind: 'keyword', tenant: 'keyword', status: 'keyword', expires_at: 'float' };
export const BLOB_INDEXES: Record<string, FieldSchema> = { lib: { type: 'keyword', is_tenant: true }, tenant: 'keyword' };
export const IMAGE_INDEXES: Record<string, FieldSchema> = Object.fromEntries(
  IMAGE_KEYWORD_INDEXES.map((k) => [k, k === 'lib' ? { type: 'keyword', is_tenant: true } : 'keyword']),
);

/** The payload indexes that serve filters on these tag fields. */
export function tagIndexes(fields: Iterable<string>): Record<string, FieldSchema> {
  const out: Record<string, FieldSchema> = {};
  for (const field of fields) {
    for (const [view, schema] of Object.entries(TAG_VIEW_INDEX) as Array<[TagView, FieldSchema]>) out[tagPath(view, field)] = schema;
  }
  return out;
}

export class Collections {
  private readonly ready = new Map<string, Promise<void>>();
  private readonly indexed = new Set<string>();

  constructor(
    private readonly client: QdrantClient,
    private readonly options: QdrantStoreOptions,
  ) {}

  /** Resolves when the collection exists with its indexes; a failure is not remembered (next call retries). */
  ensure(name: string, spec: CreateCollectionArgs, indexes: Record<string, FieldSchema>): Promise<void> {
    let ready = this.ready.get(name);
    if (!ready) {
      ready = this.create(name, spec, indexes);
      this.ready.set(name, ready);
      ready.catch(() => this.ready.delete(name));
    }
    return ready;
  }

  /** Forget what is known of a collection (it was dropped, here or by another process). */
  forget(name: string): void {
    this.ready.delete(name);
    for (const key of [...this.indexed]) if (key.startsWith(`${name}\u0000`)) this.indexed.delete(key);
  }

  /** Asks for missing payload indexes without waiting for them (they speed filters up; results do not depend on them). */
  indexInBackground(name: string, indexes: Record<string, FieldSchema>): void {
    for (const [field, schema] of Object.entries(indexes)) {
      const key = `${name}\u0000${field}`;
      if (this.indexed.has(key)) continue;
      this.indexed.add(key);
      this.client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: false }).catch(() => this.indexed.delete(key));
    }
  }

  private async create(name: string, spec: CreateCollectionArgs, indexes: Record<string, FieldSchema>): Promise<void> {
    const { exists } = await this.client.collectionExists(name);
    if (!exists) {
      try {
        await this.client.createCollection(name, spec);
      } catch (e) {
        // Another process created it between our check and our request.
        if (httpStatusOf(e) !== 409 && !(await this.client.collectionExists(name)).exists) throw e;
      }
    }
    for (const [field, schema] of Object.entries(indexes)) {
      await this.client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true });
      this.indexed.add(`${name}\u0000${field}`);
    }
  }

  get settings(): QdrantStoreOptions {
    return this.options;
  }
}
