/**
 * Categories (shared/specs/alibaba.md §3.1) and the one function that decides an image's CategoryId.
 * Zero-shot prediction with a CLIP model (issue 6) is to be wired into chooseCategory; until then a product
 * instance without a given category files the image under 88888888 ("Other").
 */
import type { Library } from '../../core/records';

export const OTHER_CATEGORY = 88888888;

/** PicInfo.AllCategories, in the vendor's order and words. */
export const ALL_CATEGORIES: ReadonlyArray<{ Id: number; Name: string }> = [
  { Id: 0, Name: 'Tops' },
  { Id: 1, Name: 'Dress' },
  { Id: 2, Name: 'Bottoms' },
  { Id: 3, Name: 'Bag' },
  { Id: 4, Name: 'Shoes' },
  { Id: 5, Name: 'Accessories' },
  { Id: 6, Name: 'Snack' },
  { Id: 7, Name: 'Makeup' },
  { Id: 8, Name: 'Bottle' },
  { Id: 9, Name: 'Furniture' },
  { Id: 20, Name: 'Toy' },
  { Id: 21, Name: 'Underwear' },
  { Id: 22, Name: 'Digital device' },
  { Id: OTHER_CATEGORY, Name: 'Other' },
];

/** Product instances (ServiceType 0) are item_search libraries; every other mode is a generic instance (1). */
export function isProductInstance(library: Library): boolean {
  return library.mode === 'item_search';
}

export interface CategoryContext {
  library: Library;
  /** CategoryId as the request gave it. */
  given?: number;
  /** The query or added image (for a future predictor). */
  image?: Buffer;
}

/**
 * The CategoryId of an added or searched image: generic instances force 88888888 whatever is sent; product
 * instances take the given category, else a prediction (none yet: 88888888).
 */
export async function chooseCategory(ctx: CategoryContext): Promise<number> {
  if (!isProductInstance(ctx.library)) return OTHER_CATEGORY;
  if (ctx.given !== undefined) return ctx.given;
  return OTHER_CATEGORY;
}
