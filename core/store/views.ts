/** The rules both stores apply to views (vector-store.ts: ImageWrite.views, SearchOptions.views). */
import { InvalidArgumentError } from '../errors';
import type { ImageWrite } from './vector-store';

/** A write's views must be exactly the library's other views (perImage - 1), each of the write's dimension. */
export function checkViews(write: ImageWrite, perImage: number, dim: number): void {
  const views = write.views ?? [];
  if (views.length !== perImage - 1) {
    throw new InvalidArgumentError('views', `the library keeps ${perImage} vector(s) per image; the write has ${views.length + 1}`);
  }
  for (const v of views) {
    if (!(v instanceof Float32Array) || v.length !== dim) throw new InvalidArgumentError('views', `every view must be a Float32Array of dimension ${dim}`);
  }
}

/**
 * The rows of an image (indices into the library's views) a search compares with: undefined for all of
 * them, [] for none (the library indexes none of the views named).
 */
export function viewRows(libraryViews: readonly string[] | undefined, wanted: readonly string[] | undefined): number[] | undefined {
  if (!wanted) return undefined;
  const views = libraryViews ?? ['whole'];
  const rows = views.flatMap((v, i) => (wanted.includes(v) ? [i] : []));
  return rows.length === views.length ? undefined : rows;
}
