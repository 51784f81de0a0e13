/**
 * The one storage interface of the engine. Every implementation (embedded, qdrant) passes the same
 * contract suite in tests/unit/store-contract.ts.
 *
 * Vectors are L2-normalised Float32Arrays of the library's model dimension; similarity is the inner
 * product (= cosine). A store keeps records, vectors, optional original image bytes and task records,
 * durably: when a write promise resolves, the write survives a crash of the process.
 */
import type { Filter } from '../filter';
import type { ImageRecord, Library, LibraryRef, Tags } from '../records';

export interface ImageWrite {
  record: ImageRecord;
  /** The whole picture's vector. */
  vector: Float32Array;
  /**
   * The vectors of the library's other views, in the order of `Library.views` after `whole`: required
   * (exactly that many) in a library with views, absent otherwise. The image scores by its best vector.
   */
  views?: Float32Array[];
  /** Original image bytes to keep (operator save_image); absent = keep none. */
  image?: Buffer;
}

/** Which images of a library an operation addresses; fields combine with AND. Empty = none. */
export interface ImageSelector {
  ids?: string[];
  itemIds?: string[];
  filter?: Filter;
}

export interface ListOptions {
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit: number;
  filter?: Filter;
  itemId?: string;
}

export interface ListPage {
  images: ImageRecord[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface SearchOptions {
  /** Results wanted after `offset` (top-k). */
  limit: number;
  offset?: number;
  filter?: Filter;
  /** Drop results below this similarity (inner product). */
  minSimilarity?: number;
  /** Keep only the best image per itemId. */
  distinctItem?: boolean;
  /** Exclude these image ids (e.g. the query image itself). */
  excludeIds?: string[];
  /**
   * Compare the query with these views of each image only (names from Library.views); absent: with all
   * of them. Views a library does not index are ignored, and a library left with none answers nothing.
   */
  views?: string[];
}

export interface SearchHit {
  library: string;
  record: ImageRecord;
  /** Inner product of the query and the image's best stored vector (its views included), in [-1, 1]. */
  similarity: number;
}

/** A persisted background task (batch import, dump, ...). `state` is owned by whoever runs the task. */
export interface TaskRecord {
  tenant: string;
  id: string;
  kind: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  createdAt: number;
  updatedAt: number;
  state: unknown;
}

export interface VectorStore {
  readonly name: string;
  close(): Promise<void>;

  createLibrary(library: Library): Promise<void>; // AlreadyExistsError if present
  getLibrary(ref: LibraryRef): Promise<Library | undefined>;
  listLibraries(tenant: string): Promise<Library[]>;
  /** Removes the library and all its images. Resolves false when it did not exist. */
  deleteLibrary(ref: LibraryRef): Promise<boolean>;

  /** Inserts or overwrites by record.id, atomically for the whole batch. */
  upsertImages(ref: LibraryRef, writes: ImageWrite[]): Promise<void>;
  getImage(ref: LibraryRef, id: string): Promise<ImageRecord | undefined>;
  getImages(ref: LibraryRef, ids: string[]): Promise<ImageRecord[]>;
  getImageBytes(ref: LibraryRef, id: string): Promise<Buffer | undefined>;
  /** The whole picture's vector. */
  getVector(ref: LibraryRef, id: string): Promise<Float32Array | undefined>;
  /** The vectors of the image's other views (ImageWrite.views): [] in a library without views. */
  getViews(ref: LibraryRef, id: string): Promise<Float32Array[] | undefined>;
  /** Replaces (not merges) the tags and extra of an existing image; false when it does not exist. */
  updateImage(ref: LibraryRef, id: string, patch: { tags?: Tags; extra?: Record<string, unknown> }): Promise<boolean>;
  /** Deletes the selected images; resolves the ids deleted. */
  deleteImages(ref: LibraryRef, selector: ImageSelector): Promise<string[]>;
  listImages(ref: LibraryRef, options: ListOptions): Promise<ListPage>;
  countImages(ref: LibraryRef, filter?: Filter): Promise<number>;

  /** Best matches across the given libraries (all of the same dimension), best first. */
  search(refs: LibraryRef[], query: Float32Array, options: SearchOptions): Promise<SearchHit[]>;

  putTask(task: TaskRecord): Promise<void>;
  getTask(tenant: string, id: string): Promise<TaskRecord | undefined>;
  /** Tasks not yet finished, of every tenant (resumed at start). */
  listUnfinishedTasks(): Promise<TaskRecord[]>;

  /** Every tenant that has a library or a task, sorted (store migration walks them). */
  listTenants(): Promise<string[]>;

  /**
   * Records a one-time token (a request nonce) until `expiresAt` (ms since epoch): resolves true for the
   * first claim and false for every later one before it expires, across all processes sharing the store.
   * Only stores several processes share implement it (qdrant); with one process, memory does the job.
   */
  claimOnce?(scope: string, token: string, expiresAt: number): Promise<boolean>;

  /** Removes every library, image and task of one tenant, or of all tenants. */
  reset(tenant?: string): Promise<void>;
}
