/**
 * The Qdrant store's image bytes (the ImageBytesStore part): originals kept with images, as base64 points
 * of the `<prefix>_blobs` collection, apart from the search payload. A blob carries a random token that the
 * image point names; bytes are written before the image point and are only visible through a point that
 * names their token, so an unacknowledged or replaced write never shows.
 */
import { randomUUID } from 'node:crypto';
import type { QdrantClient } from '@qdrant/js-client-rest';
import type { ImageWrite } from '../vector-store';
import { pointId, UNIT_VECTOR, type BlobPayload } from './layout';

/** Bytes of base64 per blob upsert request (Qdrant's default request limit is 32 MiB). */
const BLOB_REQUEST_BYTES = 16 * 1024 * 1024;

const blobPointId = (lib: string, id: string) => pointId('blob', lib, id);

/** What the store lends this part: its client, the blobs collection, and its plumbing. */
export interface BlobAccess {
  readonly client: QdrantClient;
  readonly blobs: string;
  ensureBlobs(): Promise<void>;
  write<T>(run: () => Promise<T>): Promise<T>;
  retrieve<P>(collection: string, ids: string[]): Promise<Array<{ payload?: P | Record<string, unknown> | null }>>;
}

export class QdrantImageBytes {
  constructor(private readonly q: BlobAccess) {}

  /** The collection the bytes live in (library deletion and reset clear it by payload). */
  get collection(): string {
    return this.q.blobs;
  }

  /** Writes the originals of a batch (library key `lib`); resolves each image's token, for its point to name. */
  async write(lib: string, tenant: string, writes: Iterable<ImageWrite>): Promise<Map<string, string>> {
    const tokens = new Map<string, string>();
    const blobs: Array<{ id: string; vector: number[]; payload: BlobPayload }> = [];
    for (const w of writes) {
      if (w.image === undefined) continue;
      const blob = randomUUID();
      tokens.set(w.record.id, blob);
      blobs.push({ id: blobPointId(lib, w.record.id), vector: UNIT_VECTOR, payload: { lib, tenant, id: w.record.id, blob, data: w.image.toString('base64') } });
    }
    if (blobs.length > 0) {
      await this.q.ensureBlobs();
      for (const chunk of chunkByBytes(blobs, (b) => b.payload.data.length, BLOB_REQUEST_BYTES)) {
        await this.q.write(() => this.q.client.upsert(this.q.blobs, { wait: true, ordering: 'medium', points: chunk.map((b) => ({ ...b, payload: { ...b.payload } })) }));
      }
    }
    return tokens;
  }

  /** The original of image `id`, when its point names `token` (undefined: none kept). */
  async read(lib: string, id: string, token: string | undefined): Promise<Buffer | undefined> {
    if (token === undefined) return undefined;
    const [blob] = await this.q.retrieve<BlobPayload>(this.q.blobs, [blobPointId(lib, id)]);
    const payload = blob?.payload as BlobPayload | undefined;
    return payload && payload.blob === token ? Buffer.from(payload.data, 'base64') : undefined;
  }

  /** Reclaims the space of originals no point names any more (unreachable already). Best effort. */
  async forget(lib: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.q.client.delete(this.q.blobs, { wait: false, points: ids.map((id) => blobPointId(lib, id)) }).catch(() => undefined);
  }
}

function chunkByBytes<T>(items: T[], size: (item: T) => number, max: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = size(item);
    if (current.length > 0 && bytes + s > max) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
