/**
 * The engine: the one API every adapter calls. It knows libraries, images, vectors and filters; it knows
 * no HTTP and no vendor. Adapters translate their wire formats into these calls and the typed errors back.
 */
import { InvalidArgumentError, NotFoundError, NotSupportedError, QuotaExceededError } from './errors';
import type { EngineError } from './errors';
import { isEngineError } from './errors';
import type { Filter } from './filter';
import type { ModelRegistry } from './embed/registry';
import type { LoadedModel } from './embed/runner';
import { rankLabels, type LabelScore } from './embed/zero-shot';
import { checkImage, clampRegion, decodeImage, detectSubject, detectSubjects } from './image';
import { toTensor } from './image/tensor';
import { decodeForViews, discounted, undiscounted, viewTensors, type ViewName } from './image/views';
import type { CheckedImage, ImageLimits } from './image/types';
import type { ImageRecord, Library, LibraryMode, LibraryRef, Region, Tags } from './records';
import { LIBRARY_MODES } from './records';
import { dot } from './store/inner-product';
import type { ImageSelector, ListPage, VectorStore } from './store/vector-store';
import { checkLibraryViews, mergeProbeHits, probesOf, queryViewsOf, type Probe } from './view-search';

/** An image as an adapter hands it over: bytes plus the vendor's limits for this call. */
export interface ImageInput {
  bytes: Buffer;
  limits: ImageLimits;
  /** Embed only this rectangle (pixels of the oriented image). */
  region?: Region;
}

/**
 * An image checked once (Engine.prepareImage): format sniffed, header read, the caller's limits applied,
 * pixels not yet decoded. Every step that takes an image (subject detection, category prediction, add,
 * search, compare) takes it as is, so a request that does several checks the image once.
 */
export interface PreparedImage {
  readonly checked: CheckedImage;
  /** Embed only this rectangle (pixels of the oriented image); spread a prepared image to set one. */
  readonly region?: Region;
}

/** Either an image to check or one already checked. */
export type ImageSource = ImageInput | PreparedImage;

export interface NewLibrary {
  name: string;
  mode: LibraryMode;
  /** Defaults to the registry's default model. */
  model?: string;
  description?: string;
  tagKeys?: string[];
  capacity?: number;
  extra?: Record<string, unknown>;
  /** The views each image is indexed by, `whole` first; default: the engine's `views` option. */
  views?: readonly string[];
}

export interface EngineOptions {
  /**
   * The views new libraries index images by (core/image/views.ts): 'model' (default) takes each model's
   * own recommendation (its manifest's `views`), 'off' the whole picture only, a list those views.
   */
  views?: 'model' | 'off' | readonly string[];
}

export interface NewImage {
  id: string;
  itemId?: string;
  uri?: string;
  tags?: Tags;
  extra?: Record<string, unknown>;
  image: ImageSource;
  /** Keep the original bytes so they can be returned later. */
  keepImage?: boolean;
}

export type AddResult = { ok: true; record: ImageRecord } | { ok: false; id: string; error: EngineError };

export interface SearchQuery {
  limit: number;
  offset?: number;
  filter?: Filter;
  /** Minimum score in [0, 1]. */
  minScore?: number;
  /** Best image per itemId only. */
  distinctItem?: boolean;
  excludeIds?: string[];
}

export interface SearchResult {
  hits: Array<{ library: string; record: ImageRecord; score: number }>;
  /** The region the query was embedded from, when a region was given or a subject detected. */
  region?: Region;
  /** item_search with no subject in the query: nothing was searched. */
  noSubject?: boolean;
}

export type ImageSearchInput = ImageSource & {
  /** Detect the main subject first (item_search does it by default). */
  detectSubject?: boolean;
};

/** Similarity (inner product of unit vectors, -1..1) as the score every API shows (0..1). */
export function scoreOf(similarity: number): number {
  return Math.min(1, Math.max(0, similarity));
}

const MAX_NAME_LENGTH = 256;
const MAX_IMAGE_ID_LENGTH = 4096;

/** An installed model as listings show it. */
export interface ModelInfo {
  name: string;
  /** Whether it has a text tower (text search, zero-shot categories). */
  text: boolean;
  /** Vector dimension; null when the manifest cannot be read. */
  dimension: number | null;
}

export class Engine {
  constructor(
    private readonly store: VectorStore,
    private readonly models: ModelRegistry,
    private readonly options: EngineOptions = {},
  ) {}

  // ---- tenants, models, one-time claims ----------------------------------------------------------

  /** Every tenant that has a library or a task, sorted. */
  listTenants(): Promise<string[]> {
    return this.store.listTenants();
  }

  /** Removes every library, image and task of one tenant, or of every tenant. */
  reset(tenant?: string): Promise<void> {
    return this.store.reset(tenant);
  }

  /** The model libraries get when they name none. */
  get defaultModel(): string {
    return this.models.defaultModel;
  }

  /** The installed models, the default first (it may be a link, which folder listings skip). */
  async describeModels(): Promise<ModelInfo[]> {
    const names = [...new Set([this.models.defaultModel, ...this.models.names()])].filter((n) => this.models.has(n));
    return Promise.all(
      names.map(async (name) => {
        const manifest = await this.models.describe(name).catch(() => undefined);
        return { name, text: manifest?.textual !== undefined, dimension: manifest?.dimension ?? null };
      }),
    );
  }

  /**
   * Claims a one-time token (a request nonce) until `expiresAt` (ms since epoch): true for the first claim,
   * false for every later one before it expires, in every process sharing the store.
   */
  claimOnce(scope: string, token: string, expiresAt: number): Promise<boolean> {
    return this.store.claimOnce(scope, token, expiresAt);
  }

  // ---- libraries -------------------------------------------------------------------------------

  async createLibrary(tenant: string, spec: NewLibrary): Promise<Library> {
    checkLibraryName(spec.name);
    if (!LIBRARY_MODES.includes(spec.mode)) {
      throw new InvalidArgumentError('mode', `mode must be one of ${LIBRARY_MODES.join(', ')}`);
    }
    const model = spec.model ?? this.models.defaultModel;
    if (!this.models.has(model)) throw new InvalidArgumentError('model', `model '${model}' is not installed`);
    const views = checkLibraryViews(spec.views ?? (await this.defaultViews(model)));
    const library: Library = {
      tenant,
      name: spec.name,
      mode: spec.mode,
      model,
      description: spec.description,
      tagKeys: spec.tagKeys,
      capacity: spec.capacity,
      extra: spec.extra,
      createdAt: Date.now(),
    };
    if (views.length > 1) library.views = views;
    await this.store.createLibrary(library);
    return library;
  }

  /** The views a new library of `model` gets when its creator names none (EngineOptions.views). */
  private async defaultViews(model: string): Promise<readonly string[]> {
    const setting = this.options.views ?? 'model';
    if (setting === 'off') return ['whole'];
    if (setting !== 'model') return setting;
    return (await this.models.get(model)).manifest.views ?? ['whole'];
  }

  async getLibrary(ref: LibraryRef): Promise<Library> {
    const library = await this.store.getLibrary(ref);
    if (!library) throw new NotFoundError('library', ref.name);
    return library;
  }

  async listLibraries(tenant: string): Promise<Array<Library & { imageCount: number }>> {
    const libraries = await this.store.listLibraries(tenant);
    return Promise.all(libraries.map(async (l) => ({ ...l, imageCount: await this.store.countImages(l) })));
  }

  async deleteLibrary(ref: LibraryRef): Promise<void> {
    if (!(await this.store.deleteLibrary(ref))) throw new NotFoundError('library', ref.name);
  }

  // ---- images ----------------------------------------------------------------------------------

  /** Adds or overwrites one image; throws the image's error. */
  async addImage(ref: LibraryRef, image: NewImage): Promise<ImageRecord> {
    const [result] = await this.addImages(ref, [image]);
    if (!result.ok) throw result.error;
    return result.record;
  }

  /**
   * Adds or overwrites a batch. Each image succeeds or fails on its own (bad bytes, bad tags); the
   * good ones are written in one transaction, so the batch is acknowledged whole or not at all.
   */
  async addImages(ref: LibraryRef, images: NewImage[]): Promise<AddResult[]> {
    const library = await this.library(ref);
    const model = await this.models.get(library.model);
    const now = Date.now();
    const results = await Promise.all(
      images.map(async (img): Promise<AddResult & { vector?: Float32Array; views?: Float32Array[] }> => {
        try {
          checkImageId(img.id);
          checkTags(library, img.tags ?? {});
          const { vector, views } = await this.embedImage(model, img.image, library.mode === 'item_search', false, library.views);
          const record: ImageRecord = {
            id: img.id,
            itemId: img.itemId,
            uri: img.uri,
            tags: img.tags ?? {},
            extra: img.extra,
            hasImage: img.keepImage === true,
            createdAt: now,
            updatedAt: now,
          };
          return { ok: true, record, vector, views };
        } catch (e) {
          if (!isEngineError(e)) throw e;
          return { ok: false, id: img.id, error: e };
        }
      }),
    );
    const writes = results.flatMap((r, i) =>
      r.ok ? [{ record: r.record, vector: r.vector!, views: r.views, image: images[i].keepImage ? bytesOf(images[i].image) : undefined }] : [],
    );
    if (writes.length > 0) {
      await this.checkCapacity(library, writes.map((w) => w.record.id));
      // Keep the first creation time of images that are overwritten.
      const existing = new Map((await this.store.getImages(library, writes.map((w) => w.record.id))).map((r) => [r.id, r]));
      for (const w of writes) w.record.createdAt = existing.get(w.record.id)?.createdAt ?? now;
      await this.store.upsertImages(library, writes);
    }
    return results.map((r) => (r.ok ? { ok: true, record: r.record } : r));
  }

  async getImage(ref: LibraryRef, id: string): Promise<ImageRecord> {
    await this.library(ref);
    const image = await this.store.getImage(ref, id);
    if (!image) throw new NotFoundError('image', id);
    return image;
  }

  async getImages(ref: LibraryRef, ids: string[]): Promise<ImageRecord[]> {
    await this.library(ref);
    return this.store.getImages(ref, ids);
  }

  /** The original bytes of an image added with keepImage, or undefined. */
  async getImageBytes(ref: LibraryRef, id: string): Promise<Buffer | undefined> {
    return this.store.getImageBytes(ref, id);
  }

  async updateImage(ref: LibraryRef, id: string, patch: { tags?: Tags; extra?: Record<string, unknown> }): Promise<void> {
    const library = await this.library(ref);
    if (patch.tags) checkTags(library, patch.tags);
    if (!(await this.store.updateImage(ref, id, patch))) throw new NotFoundError('image', id);
  }

  /** Deletes the selected images and resolves their ids (empty when none matched). */
  async deleteImages(ref: LibraryRef, selector: ImageSelector): Promise<string[]> {
    await this.library(ref);
    return this.store.deleteImages(ref, selector);
  }

  async listImages(ref: LibraryRef, options: { cursor?: string; limit: number; filter?: Filter; itemId?: string }): Promise<ListPage> {
    await this.library(ref);
    return this.store.listImages(ref, options);
  }

  async countImages(ref: LibraryRef, filter?: Filter): Promise<number> {
    await this.library(ref);
    return this.store.countImages(ref, filter);
  }

  // ---- search ----------------------------------------------------------------------------------

  async searchByImage(refs: LibraryRef[], input: ImageSearchInput, query: SearchQuery): Promise<SearchResult> {
    const libraries = await this.librariesOf(refs);
    const model = await this.models.get(sharedModel(libraries));
    const detect = input.detectSubject ?? libraries.every((l) => l.mode === 'item_search');
    const queryViews = queryViewsOf(libraries);
    const { vector, views, region, noSubject } = await this.embedImage(model, input, detect, true, queryViews);
    if (noSubject) return { hits: [], noSubject: true };
    if (!queryViews) return { hits: await this.searchVector(libraries, vector, query), region };
    const paired = (views ?? []).map((v, i) => ({ view: queryViews[i + 1], vector: v }));
    return { hits: await this.searchVectors(libraries, probesOf(vector, paired), query), region };
  }

  /** Search with the vector of an image already in a library. */
  async searchByStoredImage(ref: LibraryRef, id: string, query: SearchQuery, targets: LibraryRef[] = [ref]): Promise<SearchResult> {
    const libraries = await this.librariesOf(targets);
    const source = await this.library(ref);
    const vector = await this.store.getVector(ref, id);
    if (!vector) throw new NotFoundError('image', id);
    const queryViews = queryViewsOf(libraries);
    if (!queryViews) return { hits: await this.searchVector(libraries, vector, query) };
    // The stored image's own strips, where it has them, stand for the query's (rows in its views' order).
    const rows = source.views ? [vector, ...((await this.store.getViews(ref, id)) ?? [])] : [vector];
    const paired = queryViews.slice(1).flatMap((view) => {
      const row = rows[source.views?.indexOf(view) ?? -1];
      return row ? [{ view, vector: row }] : [];
    });
    return { hits: await this.searchVectors(libraries, probesOf(vector, paired), query) };
  }

  async searchByText(refs: LibraryRef[], text: string, query: SearchQuery): Promise<SearchResult> {
    const libraries = await this.librariesOf(refs);
    for (const library of libraries) {
      if (library.mode !== 'general_search') {
        throw new NotSupportedError('text_search', `library '${library.name}' is in ${library.mode} mode`, {
          library: library.name,
          mode: library.mode,
          cause: 'mode',
        });
      }
    }
    const model = await this.models.get(sharedModel(libraries));
    if (!model.embedText) {
      const library = libraries[0];
      throw new NotSupportedError('text_search', `model '${library.model}' of library '${library.name}' has no text encoder`, {
        library: library.name,
        mode: library.mode,
        cause: 'model',
      });
    }
    const vector = await model.embedText(text);
    return { hits: await this.searchVector(libraries, vector, query) };
  }

  /** Similarity of two images under one model, as a score in [0, 1]. */
  async compareImages(a: ImageSource, b: ImageSource, modelName = this.models.defaultModel): Promise<number> {
    const model = await this.models.get(modelName);
    const [va, vb] = await Promise.all([this.embedImage(model, a, false), this.embedImage(model, b, false)]);
    return scoreOf(dot(va.vector, vb.vector));
  }

  /**
   * Zero-shot category prediction: each label (a category name, embedded as given by the model's text
   * tower) scored against the image, best first. Throws NotSupportedError (cause 'model') when the
   * model has no text tower, so callers can fall back to their own default.
   */
  async predictCategories(image: ImageSource, labels: string[], modelName = this.models.defaultModel): Promise<LabelScore[]> {
    if (labels.length === 0) throw new InvalidArgumentError('labels', 'at least one label is required');
    const model = await this.models.get(modelName);
    const embedText = model.embedText;
    if (!embedText) {
      throw new NotSupportedError('text_search', `model '${modelName}' has no text encoder for zero-shot categories`, { cause: 'model' });
    }
    const [{ vector }, vectors] = await Promise.all([this.embedImage(model, image, false), Promise.all(labels.map((l) => embedText(l)))]);
    return rankLabels(vector, labels, vectors);
  }

  /**
   * The vectors of several views of one image (see core/image/views.ts), in the order asked: one decode,
   * one batched model run. The first step of indexing a picture by its views.
   */
  async embedViews(input: ImageSource, views: readonly ViewName[], modelName = this.models.defaultModel): Promise<Float32Array[]> {
    const { checked, region } = await this.prepared(input);
    return embedViewsOf(await this.models.get(modelName), checked, region, views);
  }

  /**
   * Checks an image against the caller's limits once, without decoding it (ImageInvalidError when it is
   * refused); the result is taken by every method that takes an image.
   */
  async prepareImage(input: ImageInput): Promise<PreparedImage> {
    return { checked: await checkImage(input.bytes, input.limits), region: input.region };
  }

  /** Subject regions of an image (largest first), for vendors that report them. */
  async detectSubjects(image: ImageSource, max = 5): Promise<Region[]> {
    return detectSubjects((await this.prepared(image)).checked, max);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** One store search; with a probe, compared with its views only and its similarities discounted. */
  private async searchVector(libraries: Library[], vector: Float32Array, query: SearchQuery, probe?: Probe) {
    const discount = probe?.discount ?? 0;
    const hits = await this.store.search(libraries, vector, {
      views: probe?.views,
      limit: query.limit,
      offset: query.offset,
      filter: query.filter,
      minSimilarity: query.minScore === undefined ? undefined : undiscounted(query.minScore, discount),
      distinctItem: query.distinctItem,
      excludeIds: query.excludeIds,
    });
    return hits.map((h) => ({ library: h.library, record: h.record, score: scoreOf(discounted(h.similarity, discount)) }));
  }

  /** searchVector for each probe (view-search.ts), their first `offset + limit` merged. */
  private async searchVectors(libraries: Library[], probes: Probe[], query: SearchQuery) {
    const page = { ...query, limit: (query.offset ?? 0) + query.limit, offset: 0 };
    const pages = await Promise.all(probes.map((p) => this.searchVector(libraries, p.vector, page, p)));
    return mergeProbeHits(pages, query);
  }

  /**
   * The library of a ref. A Library the adapter has just read (getLibrary) may stand for its ref: it is
   * not read again, so one request reads its library once.
   */
  private library(ref: LibraryRef | Library): Promise<Library> {
    return 'model' in ref && 'mode' in ref ? Promise.resolve(ref) : this.getLibrary(ref);
  }

  private async prepared(image: ImageSource): Promise<PreparedImage> {
    return 'checked' in image ? image : this.prepareImage(image);
  }

  private async librariesOf(refs: LibraryRef[]): Promise<Library[]> {
    if (refs.length === 0) throw new InvalidArgumentError('libraries', 'at least one library is required');
    return Promise.all(refs.map((r) => this.library(r)));
  }

  /**
   * Check, decode and embed one image. With `detect`, the main subject is found first; when there is
   * none, `noSubject` is set when `requireSubject` (search) and the whole image is used otherwise (add).
   * With `views` (whole first), every view is cut from one decode and embedded in one model run: `vector`
   * is the whole picture's, `views` the others'.
   */
  private async embedImage(
    model: LoadedModel,
    input: ImageSource,
    detect: boolean,
    requireSubject = false,
    views?: readonly string[],
  ): Promise<{ vector: Float32Array; views?: Float32Array[]; region?: Region; noSubject?: boolean }> {
    const { checked, region: given } = await this.prepared(input);
    let region = given;
    if (!region && detect) {
      region = await detectSubject(checked);
      if (!region && requireSubject) return { vector: new Float32Array(0), noSubject: true };
    }
    if (views && views.length > 0) {
      const [vector, ...rest] = await embedViewsOf(model, checked, region, views as ViewName[]);
      return { vector, views: rest.length > 0 ? rest : undefined, region };
    }
    // The size the pipeline yields, so CLIP-style preprocessing can use Immich's exact geometry (and, for
    // a whole JPEG, its format: tensor.ts may then decode it at a reduced scale).
    const source = region ? clampRegion(region, checked.width, checked.height) : checked;
    const tensor = await decodeImage(checked, { region }, (image) => toTensor(image, model.manifest.visual.preprocess, undefined, source));
    return { vector: await model.embedImage(tensor), region };
  }

  private async checkCapacity(library: Library, ids: string[]): Promise<void> {
    if (library.capacity === undefined) return;
    const existing = await this.store.getImages(library, ids);
    const count = await this.store.countImages(library);
    if (count + ids.length - existing.length > library.capacity) {
      throw new QuotaExceededError('library_capacity', `library '${library.name}' holds at most ${library.capacity} images`);
    }
  }
}

/** The vectors of an image's views, in the order given: one decode, one model run admitted as one request. */
async function embedViewsOf(model: LoadedModel, checked: CheckedImage, region: Region | undefined, views: readonly ViewName[]): Promise<Float32Array[]> {
  const spec = model.manifest.visual.preprocess;
  const pixels = await decodeImage(checked, { region }, (image) => decodeForViews(image, spec));
  return model.embedGroup(await viewTensors(pixels, views, spec));
}

function bytesOf(image: ImageSource): Buffer {
  return 'checked' in image ? image.checked.bytes : image.bytes;
}

function sharedModel(libraries: Library[]): string {
  const model = libraries[0].model;
  if (libraries.some((l) => l.model !== model)) {
    throw new NotSupportedError('mixed_models', 'the libraries searched together must use the same model');
  }
  return model;
}

/** Errors name engine concepts (field 'library', 'id', 'libraries'); adapters put them in their own words. */
function checkLibraryName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f]/.test(name)) {
    throw new InvalidArgumentError('library', `library name must be 1-${MAX_NAME_LENGTH} characters without control characters`);
  }
}

/** Image ids are opaque to the engine (adapters compose them from vendor keys): any non-empty text. */
function checkImageId(id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_IMAGE_ID_LENGTH || id.includes('\u0000')) {
    throw new InvalidArgumentError('id', `image ids must be 1-${MAX_IMAGE_ID_LENGTH} characters without NUL`);
  }
}

function checkTags(library: Library, tags: Tags): void {
  for (const [key, value] of Object.entries(tags)) {
    if (!['string', 'number', 'boolean'].includes(typeof value) || (typeof value === 'number' && !Number.isFinite(value))) {
      throw new InvalidArgumentError('tags', `tag '${key}' must be a string, a finite number or a boolean`);
    }
    if (library.tagKeys && library.tagKeys.length > 0 && !library.tagKeys.includes(key)) {
      throw new InvalidArgumentError('tags', `tag '${key}' is not one of the library's tag keys`);
    }
  }
}

