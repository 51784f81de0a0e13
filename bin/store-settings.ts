/**
 * The `store` section of the config file (schemas/config.json) and its environment overrides, resolved to
 * what core/store/open-store.ts opens. ISG_STORE picks the kind; ISG_QDRANT_URL and ISG_QDRANT_API_KEY
 * keep the address and the key out of the file (container secrets).
 */
import path from 'node:path';
import type { StoreConfig } from '../core/store/open-store';
import type { Quantization, Synchronous } from '../core/store/embedded';
import { QDRANT_DEFAULTS, type QdrantQuantization, type QdrantStoreOptions } from '../core/store/qdrant';

/** The config file's `store` object as the schema allows it. */
export interface StoreFileSection {
  kind?: 'embedded' | 'qdrant';
  annThreshold?: number;
  indexQuantization?: Quantization;
  synchronous?: Synchronous;
  qdrant?: Partial<Omit<QdrantStoreOptions, 'hnsw' | 'quantization'>> & {
    hnsw?: Partial<QdrantStoreOptions['hnsw']>;
    quantization?: { kind: QdrantQuantization['kind']; alwaysRam?: boolean; quantile?: number; rescore?: boolean; oversampling?: number };
  };
}

export class StoreSettingsError extends Error {}

export function storeConfigFrom(section: StoreFileSection | undefined, env: NodeJS.ProcessEnv, dataDir: string): StoreConfig {
  const kind = env.ISG_STORE || section?.kind || 'embedded';
  if (kind === 'embedded') {
    const { annThreshold, indexQuantization, synchronous } = section ?? {};
    return { kind, dir: path.join(dataDir, 'store'), annThreshold, indexQuantization, synchronous };
  }
  if (kind !== 'qdrant') throw new StoreSettingsError(`ISG_STORE must be embedded or qdrant, not '${kind}'`);
  const q = section?.qdrant ?? {};
  const url = env.ISG_QDRANT_URL || q.url;
  if (!url) throw new StoreSettingsError('store.kind is qdrant but no store.qdrant.url (or ISG_QDRANT_URL) is set');
  const { hnsw, quantization, ...rest } = q;
  const options: Partial<QdrantStoreOptions> & { url: string } = { ...rest, url };
  const apiKey = env.ISG_QDRANT_API_KEY || q.apiKey;
  if (apiKey) options.apiKey = apiKey;
  if (hnsw) options.hnsw = { ...QDRANT_DEFAULTS.hnsw, ...hnsw };
  if (quantization && quantization.kind !== 'none') {
    options.quantization = {
      kind: quantization.kind,
      alwaysRam: quantization.alwaysRam ?? true,
      rescore: quantization.rescore ?? true,
      ...(quantization.oversampling !== undefined ? { oversampling: quantization.oversampling } : {}),
      ...(quantization.kind === 'scalar' && quantization.quantile !== undefined ? { quantile: quantization.quantile } : {}),
    };
  }
  return { kind: 'qdrant', qdrant: options };
}
