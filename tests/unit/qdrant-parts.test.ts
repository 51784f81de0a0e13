/**
 * The Qdrant store's tasks and one-time claims (core/store/qdrant/task-store.ts, through the TaskStore
 * contract) and its image bytes (qdrant/image-bytes.ts), on a Qdrant model that keeps points
 * (tests/helpers/qdrant-points-fake.ts): insert-only points and conditional updates as Qdrant documents
 * them. Two stores on one such Qdrant stand for two gateway processes. With QDRANT_URL set,
 * qdrant-store.test.ts runs the whole store contract against a real Qdrant.
 */
import { describeImageBytesContract } from './image-bytes-contract';
import { describeTaskStoreContract } from './task-store-contract';
import { startPointsQdrant } from '../helpers/qdrant-points-fake';
import { QdrantStore } from '../../core/store/qdrant/qdrant-store';

async function onModel() {
  const fake = await startPointsQdrant();
  const store = new QdrantStore({ url: fake.url, readRetries: 0 });
  return { store, cleanup: () => fake.close() };
}

describeTaskStoreContract('qdrant (a model of its points)', onModel);
describeImageBytesContract('qdrant (a model of its points)', onModel);

test('two gateway processes on one Qdrant: one number each, one claim between them', async () => {
  const fake = await startPointsQdrant();
  try {
    const a = new QdrantStore({ url: fake.url });
    const b = new QdrantStore({ url: fake.url });
    const numbers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).nextSequence('t', 'lib')));
    expect([...numbers].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const until = Date.now() + 60_000;
    const claims = await Promise.all([a.claimOnce('nonce', 'n', until), b.claimOnce('nonce', 'n', until)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    // An expired token is taken over by exactly one of two claimants.
    await a.claimOnce('nonce', 'old', Date.now() - 1);
    const again = await Promise.all([a.claimOnce('nonce', 'old', until), b.claimOnce('nonce', 'old', until)]);
    expect(again.filter(Boolean)).toHaveLength(1);
  } finally {
    await fake.close();
  }
});
