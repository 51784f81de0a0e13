/**
 * The store's third part: the original bytes kept with images (NewImage.keepImage). They are
 * written with their record (ImageWrite.image, in the same atomic upsert) and go with it; this part reads
 * them. Each backend keeps them apart from the search data (embedded: files; qdrant: a blobs collection).
 */
import type { LibraryRef } from '../records';

export interface ImageBytesStore {
  /** The original bytes of an image kept with them, or undefined. */
  getImageBytes(ref: LibraryRef, id: string): Promise<Buffer | undefined>;
}
