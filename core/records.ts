/** The engine's records: what a library and an image are, independent of any vendor's words. */

export type TagValue = string | number | boolean;
export type Tags = Record<string, TagValue>;

/** How a library embeds: whole image, detected subject first, or face/whole-image dual path. */
export const LIBRARY_MODES = ['general_search', 'item_search', 'adaptive_search'] as const;
export type LibraryMode = (typeof LIBRARY_MODES)[number];

/** A library is addressed by (tenant, name). */
export interface LibraryRef {
  tenant: string;
  name: string;
}

export interface Library extends LibraryRef {
  mode: LibraryMode;
  /** Name of the model (a folder under the models directory); never changes after creation. */
  model: string;
  description?: string;
  /** Tag keys the library declares (vendors such as Huawei fix them at creation); empty = any. */
  tagKeys?: string[];
  /** Maximum number of images; undefined = unlimited. */
  capacity?: number;
  /** Fields only one vendor knows (e.g. Huawei instance level). */
  extra?: Record<string, unknown>;
  /**
   * The views each image is indexed by (core/image/views.ts), `whole` first; absent = the whole picture
   * only. A store keeps one vector per view and scores an image by its best view.
   */
  views?: string[];
  createdAt: number; // ms since epoch
}

/** How many vectors a store keeps per image of a library. */
export function vectorsPerImage(library: Pick<Library, 'views'>): number {
  return library.views?.length ?? 1;
}

export interface ImageRecord {
  /** Unique within its library. */
  id: string;
  /** Groups several images of one product (Alibaba ProductId, operator image_id). */
  itemId?: string;
  uri?: string;
  tags: Tags;
  /** Fields only one vendor knows (e.g. Alibaba CustomContent). */
  extra?: Record<string, unknown>;
  /** Whether the original image bytes are kept (operator save_image). */
  hasImage: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A rectangle in pixels of the (orientation-corrected) image. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}
