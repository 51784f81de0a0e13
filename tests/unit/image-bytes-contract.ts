/**
 * The ImageBytesStore contract (core/store/image-bytes.ts): originals are written with their record
 * (ImageWrite.image) and follow it — kept, replaced, dropped when it is overwritten without them, gone
 * with the image or its library. Run by describeStoreContract for whole stores.
 */
import type { ImageRecord, LibraryRef } from '../../core/records';
import type { ImageBytesStore, RecordStore } from '../../core/store/vector-store';

export interface ImageBytesHarness {
  /** Bytes are written through the records part, so the harness holds both. */
  store: RecordStore & ImageBytesStore;
  cleanup: () => Promise<void>;
}

const L: LibraryRef = { tenant: 'tenant-one', name: 'lib-a' };
const vector = new Float32Array([0.6, 0.8, 0, 0]);

function record(id: string, hasImage: boolean): ImageRecord {
  return { id, tags: {}, hasImage, createdAt: 1, updatedAt: 1 };
}

export function describeImageBytesContract(name: string, open: () => Promise<ImageBytesHarness>): void {
  describe(`ImageBytesStore contract: ${name}`, () => {
    let harness: ImageBytesHarness;
    let store: ImageBytesHarness['store'];

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      await store.createLibrary({ ...L, mode: 'general_search', model: 'test-model', createdAt: 1 });
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('keeps no bytes when none are given', async () => {
      await store.upsertImages(L, [{ record: record('img-000', false), vector }]);
      expect((await store.getImage(L, 'img-000'))?.hasImage).toBe(false);
      expect(await store.getImageBytes(L, 'img-000')).toBeUndefined();
    });

    it('deleting an image removes its bytes', async () => {
      await store.upsertImages(L, [{ record: record('a', true), vector, image: Buffer.from('abc') }]);
      expect(await store.deleteImages(L, { ids: ['a'] })).toEqual(['a']);
      expect(await store.getImageBytes(L, 'a')).toBeUndefined();
    });

    it('bytes are replaced with their image, dropped when it is written again without them, and go with their library', async () => {
      await store.upsertImages(L, [
        { record: record('a', true), vector, image: Buffer.from('first') },
        { record: record('b', true), vector, image: Buffer.from('of b') },
      ]);
      await store.upsertImages(L, [{ record: record('a', true), vector, image: Buffer.from('second') }]);
      expect((await store.getImageBytes(L, 'a'))?.toString()).toBe('second');
      await store.upsertImages(L, [{ record: record('b', false), vector }]);
      expect(await store.getImageBytes(L, 'b')).toBeUndefined();
      expect(await store.deleteLibrary(L)).toBe(true);
      await store.createLibrary({ ...L, mode: 'general_search', model: 'test-model', createdAt: 2 });
      expect(await store.getImageBytes(L, 'a')).toBeUndefined();
    });
  });
}
