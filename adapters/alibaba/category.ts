/**
 * Categories (shared/specs/alibaba.md §3.1) and the one function that decides an image's CategoryId.
 * A product instance without a given category predicts one zero-shot from the category names when the
 * instance's model has a text tower (a CLIP model, docs/models.md) and `engine` is passed; otherwise the
 * image is filed under 88888888 ("Other").
 */
import type { Engine, PreparedImage } from '../../core/engine';
import { isEngineError } from '../../core/errors';
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
  /** The query or added image, as checked for the request. */
  image?: PreparedImage;
  /** For zero-shot prediction (engine.predictCategories); without it, no prediction. */
  engine?: Pick<Engine, 'predictCategories'>;
}

/** The text each category name is embedded with for zero-shot prediction (UNVERIFIED: the vendor's model is unknown). */
export function categoryPrompt(name: string): string {
  return `a photo of ${name.toLowerCase()}`;
}

/** Categories a prediction can choose: all but "Other", which is the fallback, not a description. */
const PREDICTABLE = ALL_CATEGORIES.filter((c) => c.Id !== OTHER_CATEGORY);

/**
 * The CategoryId of an added or searched image: generic instances force 88888888 whatever is sent; product
 * instances take the given category, else a zero-shot prediction when the library's model has a text tower, else 88888888.
 */
export async function chooseCategory(ctx: CategoryContext): Promise<number> {
  if (!isProductInstance(ctx.library)) return OTHER_CATEGORY;
  if (ctx.given !== undefined) return ctx.given;
  if (ctx.engine && ctx.image) return (await predictCategory(ctx.engine, ctx.library, ctx.image)) ?? OTHER_CATEGORY;
  return OTHER_CATEGORY;
}

/** The best category by zero-shot CLIP, or undefined when the library's model has no text tower. */
async function predictCategory(engine: Pick<Engine, 'predictCategories'>, library: Library, image: PreparedImage): Promise<number | undefined> {
  try {
    const [best] = await engine.predictCategories(image, PREDICTABLE.map((c) => categoryPrompt(c.Name)), library.model);
    return PREDICTABLE[best.index].Id;
  } catch (e) {
    if (isEngineError(e) && e.kind === 'not_supported') return undefined;
    throw e;
  }
}
