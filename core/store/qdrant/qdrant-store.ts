/**
 * The Qdrant VectorStore: everything the gateway keeps (libraries, images, vectors, kept bytes, tasks,
 * one-time tokens) lives in Qdrant, so any number of gateway processes on one Qdrant answer alike.
 * This class holds the records-and-vectors part and composes the other two: image bytes (image-bytes.ts)
 * and tasks with one-time claims (task-store.ts). Layout in layout.ts, filters in filter-compiler.ts,
 * failures in failures.ts; docs/operations.md says how to run it.
 *
 * Every write waits until Qdrant has applied it (`wait: true`; with write_consistency_factor = replication
 * factor, on every replica) before its promise resolves. A batch of images is one upsert request; bytes kept
 * with images are written first and only become visible through the image point that names them.
 */
import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../errors';
import { filterFields, matches, type Filter } from '../../filter';
import { vectorsPerImage, type ImageRecord, type Library, type LibraryRef, type Tags } from '../../records';
import { dot } from '../inner-product';
import { checkViews, viewRows } from '../views';
import type {
  ImageSelector,
  ImageWrite,
  ListOptions,
  ListPage,
  SearchHit,
  SearchOptions,
  TaskRecord,
  VectorStore,
} from '../vector-store';
import { BLOB_INDEXES, Collections, IMAGE_INDEXES, imagesCollectionSpec, META_INDEXES, plainCollectionSpec, tagIndexes } from './collections';
import { isNotFound, readWithRetries, writeOnce } from './failures';
import { compileFilter, type CompiledFilter, type QdrantCondition, type QdrantFilter } from './filter-compiler';
import {
  blobsCollection,
  imagePayload,
  imagePointId,
  imagesCollection,
  isImagesCollection,
  isMultivectorCollection,
  libraryFromPayload,
  libraryPayload,
  libraryPointId,
  metaCollection,
  recordFromPayload,
  tagFields,
  UNIT_VECTOR,
  type ImagePayload,
  type LibraryPayload,
} from './layout';
import { decodePointCursor, encodePointCursor } from '../cursor';
import { qdrantOptions, type QdrantStoreOptions } from './options';
import { QdrantImageBytes } from './image-bytes';
import { QdrantTasks } from './task-store';

type PointId = string | number;
interface Point<P> {
  id: PointId;
  payload?: P | Record<string, unknown> | null;
  vector?: unknown;
  score?: number;
}

/** Points per scroll page when the store walks a selection itself. */
const SCROLL_PAGE = 1000;
/** Image payload fields a record needs (the typed tag views `f` are for filters only). */
const RECORD_PAYLOAD = { exclude: ['f'] };


export class QdrantStore implements VectorStore {
  readonly name = 'qdrant';
  readonly options: QdrantStoreOptions;
  private readonly client: QdrantClient;
  private readonly collections: Collections;
  private readonly meta: string;
  private readonly blobs: string;
  private readonly tasks: QdrantTasks;
  private readonly bytes: QdrantImageBytes;
  private closed = false;

  constructor(options: Partial<QdrantStoreOptions> & { url: string }) {
    this.options = qdrantOptions(options);
    const { url, apiKey, timeoutMs, collectionPrefix } = this.options;
    this.client = new QdrantClient({ url, apiKey, timeout: timeoutMs, checkCompatibility: false });
    this.collections = new Collections(this.client, this.options);
    this.meta = metaCollection(collectionPrefix);
    this.blobs = blobsCollection(collectionPrefix);
    this.bytes = new QdrantImageBytes({
      client: this.client,
      blobs: this.blobs,
      ensureBlobs: () => this.ensureBlobs(),
      write: (run) => this.write(run),
      retrieve: (collection, ids) => this.retrieve(collection, ids),
    });
    this.tasks = new QdrantTasks({
      client: this.client,
      meta: this.meta,
      ensureMeta: () => this.ensureMeta(),
      write: (run) => this.write(run),
      retrieve: (collection, ids, withVector, withPayload) => this.retrieve(collection, ids, withVector, withPayload),
      scrollAll: (collection, filter, withPayload) => this.scrollAll(collection, filter, withPayload),
    });
  }

  /** Creates the client; the server is first contacted by the first operation (a gateway can start before Qdrant). */
  static async open(options: Partial<QdrantStoreOptions> & { url: string }): Promise<QdrantStore> {
    return new QdrantStore(options);
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  private read<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('qdrant store is closed');
    return readWithRetries(this.options.readRetries, run);
  }

  private write<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('qdrant store is closed');
    return writeOnce(run);
  }

  private ensureMeta(): Promise<void> {
    return this.read(() => this.collections.ensure(this.meta, plainCollectionSpec(this.options, false), META_INDEXES));
  }

  private ensureBlobs(): Promise<void> {
    return this.read(() => this.collections.ensure(this.blobs, plainCollectionSpec(this.options, true), BLOB_INDEXES));
  }

  private ensureImages(collection: string, dimension: number): Promise<void> {
    const spec = imagesCollectionSpec(this.options, dimension, isMultivectorCollection(collection));
    return this.read(() => this.collections.ensure(collection, spec, IMAGE_INDEXES));
  }

  /** Retrieve points by id; a collection that does not exist (yet, or any more) holds none. */
  private async retrieve<P>(collection: string, ids: PointId[], withVector = false, withPayload: unknown = true): Promise<Array<Point<P>>> {
    if (ids.length === 0) return [];
    return this.read(async () => {
      try {
        return (await this.client.retrieve(collection, {
          ids,
          with_payload: withPayload as boolean,
          with_vector: withVector,
        })) as Array<Point<P>>;
      } catch (e) {
        if (isNotFound(e)) return [];
        throw e;
      }
    });
  }

  /** Every point matching `filter` (pages of SCROLL_PAGE), optionally checked against a core filter too. */
  private async scrollAll<P>(collection: string, filter: QdrantFilter, withPayload: unknown = true): Promise<Array<Point<P>>> {
    const out: Array<Point<P>> = [];
    let offset: PointId | undefined;
    do {
      const page = await this.read(async () => {
        try {
          return await this.client.scroll(collection, { filter, limit: SCROLL_PAGE, offset, with_payload: withPayload as boolean, with_vector: false });
        } catch (e) {
          if (isNotFound(e)) return { points: [], next_page_offset: undefined };
          throw e;
        }
      });
      out.push(...(page.points as Array<Point<P>>));
      offset = (page.next_page_offset ?? undefined) as PointId | undefined;
    } while (offset !== undefined && offset !== null);
    return out;
  }

  private async libraryPoint(ref: LibraryRef): Promise<LibraryPayload | undefined> {
    await this.ensureMeta();
    const [point] = await this.retrieve<LibraryPayload>(this.meta, [libraryPointId(ref.tenant, ref.name)]);
    return (point?.payload as LibraryPayload | undefined) ?? undefined;
  }

  private async requireLibrary(ref: LibraryRef): Promise<LibraryPayload> {
    const lib = await this.libraryPoint(ref);
    if (!lib) throw new NotFoundError('library', ref.name);
    return lib;
  }

  /** The filter selecting one library's images, with a compiled tag filter and extra conditions. */
  private scope(libs: string[], compiled: CompiledFilter, more: QdrantCondition[] = [], mustNot: QdrantCondition[] = []): QdrantFilter {
    const must: QdrantCondition[] = [{ key: 'lib', match: libs.length === 1 ? { value: libs[0] } : { any: libs } }, ...more];
    if (compiled.kind === 'filter') must.push(compiled.filter);
    return mustNot.length > 0 ? { must, must_not: mustNot } : { must };
  }

  /** Ask for the payload indexes a filter's fields need (once per collection and field). */
  private indexFilterFields(collection: string, filter: Filter | undefined): void {
    if (filter) this.collections.indexInBackground(collection, tagIndexes(filterFields(filter)));
  }

  // ---------------------------------------------------------------------------------------------
  // Libraries

  async createLibrary(library: Library): Promise<void> {
    if (await this.libraryPoint(library)) throw new AlreadyExistsError('library', library.name);
    const lib = randomUUID();
    await this.write(() =>
      this.client.upsert(this.meta, {
        wait: true,
        ordering: 'strong',
        // insert_only: of two gateways creating the same library at once, one wins; the other reads it back.
        update_mode: 'insert_only',
        points: [{ id: libraryPointId(library.tenant, library.name), vector: UNIT_VECTOR, payload: { ...libraryPayload(library, lib) } }],
      }),
    );
    if ((await this.libraryPoint(library))?.lib !== lib) throw new AlreadyExistsError('library', library.name);
  }

  async getLibrary(ref: LibraryRef): Promise<Library | undefined> {
    const p = await this.libraryPoint(ref);
    return p ? libraryFromPayload(p) : undefined;
  }

  async listLibraries(tenant: string): Promise<Library[]> {
    await this.ensureMeta();
    const points = await this.scrollAll<LibraryPayload>(this.meta, {
      must: [
        { key: 'kind', match: { value: 'library' } },
        { key: 'tenant', match: { value: tenant } },
      ],
    });
    return points
      .map((p) => libraryFromPayload(p.payload as LibraryPayload))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async deleteLibrary(ref: LibraryRef): Promise<boolean> {
    const lib = await this.libraryPoint(ref);
    if (!lib) return false;
    // The record first: from then on the library is gone for every gateway, whatever happens next.
    await this.write(() => this.client.delete(this.meta, { wait: true, points: [libraryPointId(ref.tenant, ref.name)] }));
    await this.dropLibraryPoints([lib]);
    return true;
  }

  /**
   * Removes the images and kept bytes of libraries whose records are already deleted. Best effort: points
   * left behind (Qdrant unreachable right now) carry a library key no record names, so nothing shows them.
   */
  private async dropLibraryPoints(libs: LibraryPayload[]): Promise<void> {
    const keys = libs.map((l) => l.lib);
    if (keys.length === 0) return;
    const byLib: QdrantFilter = { must: [{ key: 'lib', match: { any: keys } }] };
    const collections = new Set(libs.flatMap((l) => (l.collection ? [l.collection] : [])));
    await Promise.all(
      [...collections, this.blobs].map((c) => this.client.delete(c, { wait: true, filter: byLib }).catch(() => undefined)),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Images

  async upsertImages(ref: LibraryRef, writes: ImageWrite[]): Promise<void> {
    const lib = await this.requireLibrary(ref);
    if (writes.length === 0) return;
    const library = libraryFromPayload(lib);
    const perImage = vectorsPerImage(library);
    let dim = lib.dimension;
    for (const w of writes) {
      if (!(w.vector instanceof Float32Array) || w.vector.length === 0) {
        throw new InvalidArgumentError('vector', 'vector must be a non-empty Float32Array');
      }
      dim ??= w.vector.length;
      if (w.vector.length !== dim) throw new InvalidArgumentError('vector', `vector has dimension ${w.vector.length}, library has ${dim}`);
      checkViews(w, perImage, dim);
      if (typeof w.record.id !== 'string' || w.record.id === '') throw new InvalidArgumentError('id', 'image id must be a non-empty string');
    }
    const collection = lib.collection ?? imagesCollection(this.options.collectionPrefix, library.model, dim!, perImage > 1);
    await this.ensureImages(collection, dim!);
    if (lib.dimension === null) {
      await this.write(() =>
        this.client.setPayload(this.meta, { wait: true, points: [libraryPointId(ref.tenant, ref.name)], payload: { dimension: dim, collection } }),
      );
    }
    // Later writes of one id win within a batch, as they would one by one.
    const last = new Map<string, ImageWrite>();
    for (const w of writes) last.set(w.record.id, w);
    const tokens = await this.bytes.write(lib.lib, ref.tenant, last.values());
    const points = [...last.values()].map((w) => ({
      id: imagePointId(lib.lib, w.record.id),
      vector: perImage > 1 ? [w.vector, ...w.views!].map((v) => Array.from(v)) : Array.from(w.vector),
      payload: { ...imagePayload(lib.lib, ref.tenant, w.record, tokens.get(w.record.id)) },
    }));
    await this.write(() => this.client.upsert(collection, { wait: true, ordering: 'medium', points }));
    // Bytes an overwritten image no longer keeps: unreachable already (no token names them); reclaim the space.
    await this.bytes.forget(lib.lib, [...last.values()].filter((w) => w.image === undefined).map((w) => w.record.id));
  }

  private async imagePoints(ref: LibraryRef, ids: string[]): Promise<Array<Point<ImagePayload>>> {
    const lib = await this.requireLibrary(ref);
    if (!lib.collection || ids.length === 0) return [];
    return this.retrieve<ImagePayload>(lib.collection, ids.map((id) => imagePointId(lib.lib, id)), false, RECORD_PAYLOAD);
  }

  async getImage(ref: LibraryRef, id: string): Promise<ImageRecord | undefined> {
    const [point] = await this.imagePoints(ref, [id]);
    return point ? recordFromPayload(point.payload as ImagePayload) : undefined;
  }

  async getImages(ref: LibraryRef, ids: string[]): Promise<ImageRecord[]> {
    const unique = [...new Set(ids)];
    const found = new Map((await this.imagePoints(ref, unique)).map((p) => [(p.payload as ImagePayload).id, p]));
    return unique.flatMap((id) => {
      const p = found.get(id);
      return p ? [recordFromPayload(p.payload as ImagePayload)] : [];
    });
  }

  async getImageBytes(ref: LibraryRef, id: string): Promise<Buffer | undefined> {
    const lib = await this.requireLibrary(ref);
    const [point] = await this.imagePoints(ref, [id]);
    return this.bytes.read(lib.lib, id, (point?.payload as ImagePayload | undefined)?.blob);
  }

  async getVector(ref: LibraryRef, id: string): Promise<Float32Array | undefined> {
    const lib = await this.requireLibrary(ref);
    if (!lib.collection) return undefined;
    const [point] = await this.retrieve<ImagePayload>(lib.collection, [imagePointId(lib.lib, id)], true, false);
    return point ? rowsOf(lib.collection, point.vector)[0] : undefined;
  }

  async getViews(ref: LibraryRef, id: string): Promise<Float32Array[] | undefined> {
    const lib = await this.requireLibrary(ref);
    if (!lib.collection) return undefined;
    const [point] = await this.retrieve<ImagePayload>(lib.collection, [imagePointId(lib.lib, id)], true, false);
    return point ? rowsOf(lib.collection, point.vector).slice(1) : undefined;
  }

  async updateImage(ref: LibraryRef, id: string, patch: { tags?: Tags; extra?: Record<string, unknown> }): Promise<boolean> {
    const lib = await this.requireLibrary(ref);
    if (!lib.collection) return false;
    const [point] = await this.retrieve<ImagePayload>(lib.collection, [imagePointId(lib.lib, id)]);
    if (!point) return false;
    const old = point.payload as ImagePayload;
    const next: ImagePayload = { ...old, updated_at: Date.now() };
    if (patch.tags !== undefined) {
      next.tags = patch.tags;
      next.f = tagFields(patch.tags);
    }
    if (patch.extra !== undefined) next.extra = JSON.stringify(patch.extra);
    await this.write(() =>
      this.client.overwritePayload(lib.collection!, { wait: true, ordering: 'medium', points: [point.id], payload: { ...next } }),
    );
    return true;
  }

  async deleteImages(ref: LibraryRef, selector: ImageSelector): Promise<string[]> {
    const lib = await this.requireLibrary(ref);
    const { ids, itemIds, filter } = selector;
    if (ids === undefined && itemIds === undefined && filter === undefined) return [];
    if (ids?.length === 0 || itemIds?.length === 0 || !lib.collection) return [];
    const compiled = compileFilter(filter);
    if (compiled.kind === 'none') return [];
    const more: QdrantCondition[] = [];
    if (ids) more.push({ key: 'id', match: { any: ids } });
    if (itemIds) more.push({ key: 'item', match: { any: itemIds } });
    let victims = (await this.scrollAll<ImagePayload>(lib.collection, this.scope([lib.lib], compiled, more), { include: ['id', 'tags'] })).map(
      (p) => p.payload as Pick<ImagePayload, 'id' | 'tags'>,
    );
    if (!compiled.exact) victims = victims.filter((v) => matches(filter!, v.tags));
    if (victims.length === 0) return [];
    const victimIds = victims.map((v) => v.id);
    await this.write(() =>
      this.client.delete(lib.collection!, { wait: true, ordering: 'medium', points: victimIds.map((id) => imagePointId(lib.lib, id)) }),
    );
    await this.bytes.forget(lib.lib, victimIds);
    return victimIds;
  }

  async listImages(ref: LibraryRef, options: ListOptions): Promise<ListPage> {
    const lib = await this.requireLibrary(ref);
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new InvalidArgumentError('limit', 'limit must be a positive integer');
    let offset: PointId | undefined = options.cursor === undefined ? undefined : decodePointCursor(options.cursor);
    if (!lib.collection) return { images: [] };
    const compiled = compileFilter(options.filter);
    if (compiled.kind === 'none') return { images: [] };
    const more: QdrantCondition[] = options.itemId !== undefined ? [{ key: 'item', match: { value: options.itemId } }] : [];
    const filter = this.scope([lib.lib], compiled, more);
    this.indexFilterFields(lib.collection, options.filter);
    // One more than a page, so that a cursor is only handed out when there is a next page.
    const want = options.limit + 1;
    const found: Array<Point<ImagePayload>> = [];
    while (found.length < want) {
      const page = await this.read(() =>
        this.client.scroll(lib.collection!, { filter, limit: compiled.exact ? want - found.length : SCROLL_PAGE, offset, with_payload: RECORD_PAYLOAD, with_vector: false }),
      );
      for (const p of page.points as Array<Point<ImagePayload>>) {
        if (found.length < want && (compiled.exact || matches(options.filter!, (p.payload as ImagePayload).tags))) found.push(p);
      }
      offset = (page.next_page_offset ?? undefined) as PointId | undefined;
      if (offset === undefined) break;
    }
    const images = found.slice(0, options.limit).map((p) => recordFromPayload(p.payload as ImagePayload));
    return found.length > options.limit ? { images, nextCursor: encodePointCursor(found[options.limit].id) } : { images };
  }

  async countImages(ref: LibraryRef, filter?: Filter): Promise<number> {
    const lib = await this.requireLibrary(ref);
    if (!lib.collection) return 0;
    const compiled = compileFilter(filter);
    if (compiled.kind === 'none') return 0;
    const scoped = this.scope([lib.lib], compiled);
    this.indexFilterFields(lib.collection, filter);
    if (compiled.exact) {
      return (await this.read(() => this.client.count(lib.collection!, { filter: scoped, exact: true }))).count;
    }
    const points = await this.scrollAll<ImagePayload>(lib.collection, scoped, { include: ['tags'] });
    return points.filter((p) => matches(filter!, (p.payload as ImagePayload).tags)).length;
  }

  // ---------------------------------------------------------------------------------------------
  // Search

  async search(refs: LibraryRef[], query: Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    const offset = options.offset ?? 0;
    if (!Number.isInteger(options.limit) || options.limit < 0) throw new InvalidArgumentError('limit', 'limit must be a non-negative integer');
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError('offset', 'offset must be a non-negative integer');
    const libs = await Promise.all(refs.map((ref) => this.requireLibrary(ref)));
    let dim: number | undefined;
    for (const lib of libs) {
      if (lib.dimension === null) continue;
      if (dim !== undefined && lib.dimension !== dim) {
        throw new InvalidArgumentError('libraries', 'libraries searched together must share a vector dimension');
      }
      dim = lib.dimension;
    }
    if (dim !== undefined && query.length !== dim) throw new InvalidArgumentError('vector', `query has dimension ${query.length}, library has ${dim}`);
    const need = offset + options.limit;
    if (need === 0) return [];
    const compiled = compileFilter(options.filter);
    if (compiled.kind === 'none') return [];

    const byCollection = new Map<string, Map<string, string>>(); // collection → lib key → library name
    const rowsOfLib = new Map<string, number[]>(); // lib key → the rows compared, when not all
    for (const lib of libs) {
      if (!lib.collection) continue;
      const rows = options.views && viewRows(libraryFromPayload(lib).views, options.views);
      if (rows?.length === 0) continue;
      if (rows) rowsOfLib.set(lib.lib, rows);
      const names = byCollection.get(lib.collection) ?? new Map<string, string>();
      names.set(lib.lib, lib.name);
      byCollection.set(lib.collection, names);
    }
    const vector = Array.from(query);
    const perCollection = await Promise.all(
      [...byCollection].map(async ([collection, names]) => {
        this.indexFilterFields(collection, options.filter);
        const restricted = isMultivectorCollection(collection) && [...names.keys()].some((k) => rowsOfLib.has(k));
        const hits = restricted
          ? await this.searchViews(collection, [...names.keys()], query, rowsOfLib, compiled, need, options)
          : await this.searchCollection(collection, [...names.keys()], vector, compiled, need, options);
        return hits.map((p): SearchHit => {
          const payload = p.payload as ImagePayload;
          return { library: names.get(payload.lib)!, record: recordFromPayload(payload), similarity: p.score! };
        });
      }),
    );
    return perCollection
      .flat()
      .sort(
        (a, b) =>
          b.similarity - a.similarity ||
          (a.library < b.library ? -1 : a.library > b.library ? 1 : 0) ||
          (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0),
      )
      .slice(offset, need);
  }

  /** The filter of a search: these libraries, the compiled filter, not the excluded ids. */
  private searchScope(libs: string[], compiled: CompiledFilter, options: SearchOptions): QdrantFilter {
    const mustNot: QdrantCondition[] = options.excludeIds?.length ? [{ key: 'id', match: { any: options.excludeIds } }] : [];
    return this.scope(libs, compiled, [], mustNot);
  }

  /** The best `need` points of some libraries of one collection, exact to the store contract. */
  private async searchCollection(
    collection: string,
    libs: string[],
    vector: number[],
    compiled: CompiledFilter,
    need: number,
    options: SearchOptions,
  ): Promise<Array<Point<ImagePayload>>> {
    const filter = this.searchScope(libs, compiled, options);
    const common = {
      query: isMultivectorCollection(collection) ? [vector] : vector,
      filter,
      score_threshold: options.minSimilarity,
      with_payload: RECORD_PAYLOAD,
      with_vector: false,
      params: this.searchParams(),
    };
    const run = async <T>(ask: () => Promise<T>, empty: T): Promise<T> =>
      this.read(async () => {
        try {
          return await ask();
        } catch (e) {
          if (isNotFound(e)) return empty; // collection dropped by a reset
          throw e;
        }
      });

    if (compiled.exact) {
      if (options.distinctItem) {
        const { groups } = await run(
          () => this.client.queryGroups(collection, { ...common, group_by: 'group', group_size: 1, limit: need } as never),
          { groups: [] as Array<{ hits: Array<Point<ImagePayload>> }> },
        );
        return (groups as Array<{ hits: Array<Point<ImagePayload>> }>).map((g) => g.hits[0]);
      }
      const { points } = await run(() => this.client.query(collection, { ...common, limit: need } as never), { points: [] as unknown[] });
      return points as Array<Point<ImagePayload>>;
    }

    // A filter Qdrant can only approximate: ask for more candidates until enough pass core's own check.
    for (let limit = Math.max(need * 4, 32); ; limit *= 4) {
      const { points } = await run(() => this.client.query(collection, { ...common, limit } as never), { points: [] as unknown[] });
      const candidates = points as Array<Point<ImagePayload>>;
      const kept: Array<Point<ImagePayload>> = [];
      const groups = new Set<string>();
      for (const p of candidates) {
        const payload = p.payload as ImagePayload;
        if (!matches(options.filter!, payload.tags)) continue;
        if (options.distinctItem) {
          if (groups.has(payload.group)) continue;
          groups.add(payload.group);
        }
        kept.push(p);
      }
      if (kept.length >= need || candidates.length < limit) return kept.slice(0, need);
    }
  }

  /**
   * searchCollection comparing the query with some views of each image only (SearchOptions.views). Qdrant's
   * max_sim compares with all of them, which is never less: its best candidates are rescored here over
   * the views compared, and more are asked for until no image outside them can rank in the page.
   */
  private async searchViews(
    collection: string,
    libs: string[],
    query: Float32Array,
    rowsOfLib: Map<string, number[]>,
    compiled: CompiledFilter,
    need: number,
    options: SearchOptions,
  ): Promise<Array<Point<ImagePayload>>> {
    const filter = this.searchScope(libs, compiled, options);
    for (let limit = Math.max(need * 4, 32); ; limit *= 4) {
      const request = { query: [Array.from(query)], filter, score_threshold: options.minSimilarity, with_payload: RECORD_PAYLOAD, with_vector: true, params: this.searchParams(), limit };
      const { points } = await this.read(() => this.client.query(collection, request as never)).catch((e: unknown) => {
        if (isNotFound(e)) return { points: [] as unknown[] };
        throw e;
      });
      const candidates = points as Array<Point<ImagePayload>>;
      const rescored = candidates
        .filter((p) => compiled.exact || matches(options.filter!, (p.payload as ImagePayload).tags))
        .map((p) => {
          const rows = rowsOf(collection, p.vector);
          const allowed = rowsOfLib.get((p.payload as ImagePayload).lib) ?? rows.map((_, i) => i);
          return { ...p, score: Math.max(...allowed.filter((i) => i < rows.length).map((i) => dot(query, rows[i]))) };
        })
        .filter((p) => options.minSimilarity === undefined || p.score >= options.minSimilarity)
        .sort((a, b) => b.score - a.score || cmp((a.payload as ImagePayload).id, (b.payload as ImagePayload).id));
      const kept: Array<Point<ImagePayload>> = [];
      const groups = new Set<string>();
      for (const p of rescored) {
        const payload = p.payload as ImagePayload;
        if (options.distinctItem) {
          if (groups.has(payload.group)) continue;
          groups.add(payload.group);
        }
        kept.push(p);
      }
      // An image not among the candidates scores at most the lowest candidate's max_sim.
      const outside = candidates.length > 0 ? candidates[candidates.length - 1].score! : -Infinity;
      const settled = kept.length >= need && kept[need - 1].score! >= outside;
      if (settled || candidates.length < limit) return kept.slice(0, need);
    }
  }

  private searchParams(): Record<string, unknown> | undefined {
    const { hnsw, quantization, exactSearch } = this.options;
    const params: Record<string, unknown> = {};
    if (exactSearch) params.exact = true;
    if (hnsw.efSearch !== undefined) params.hnsw_ef = hnsw.efSearch;
    if (quantization.kind !== 'none') {
      params.quantization = { rescore: quantization.rescore, ...(quantization.oversampling !== undefined ? { oversampling: quantization.oversampling } : {}) };
    }
    return Object.keys(params).length > 0 ? params : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Tasks and one-time claims (task-store.ts)

  putTask(task: TaskRecord): Promise<void> {
    return this.tasks.putTask(task);
  }

  getTask(tenant: string, id: string): Promise<TaskRecord | undefined> {
    return this.tasks.getTask(tenant, id);
  }

  listUnfinishedTasks(): Promise<TaskRecord[]> {
    return this.tasks.listUnfinishedTasks();
  }

  listTasks(tenant: string, scope: string): Promise<TaskRecord[]> {
    return this.tasks.listTasks(tenant, scope);
  }

  deleteTask(tenant: string, id: string): Promise<boolean> {
    return this.tasks.deleteTask(tenant, id);
  }

  nextSequence(tenant: string, scope: string, from?: number): Promise<number> {
    return this.tasks.nextSequence(tenant, scope, from);
  }

  claimOnce(scope: string, token: string, expiresAt: number): Promise<boolean> {
    return this.tasks.claimOnce(scope, token, expiresAt);
  }

  async listTenants(): Promise<string[]> {
    await this.ensureMeta();
    const points = await this.scrollAll<{ tenant: string }>(
      this.meta,
      { must: [{ key: 'kind', match: { any: ['library', 'task'] } }] },
      { include: ['tenant'] },
    );
    return [...new Set(points.map((p) => (p.payload as { tenant: string }).tenant))].sort();
  }

  // ---------------------------------------------------------------------------------------------
  // Qdrant-only operations (not part of VectorStore): the bench and maintenance commands use them.

  /**
   * Resolves when Qdrant has finished optimising (indexing) the library's collection, with the number of
   * vectors in the graph (small segments are searched without one).
   */
  async waitUntilIndexed(ref: LibraryRef, pollMs = 500): Promise<{ collection: string | null; indexed: number; points: number }> {
    const lib = await this.requireLibrary(ref);
    if (!lib.collection) return { collection: null, indexed: 0, points: 0 };
    for (;;) {
      const info = await this.read(() => this.client.getCollection(lib.collection!));
      const indexed = info.indexed_vectors_count ?? 0;
      const points = info.points_count ?? 0;
      // green: no optimisation running or pending; grey: pending until the next write triggers it (nothing to wait for).
      if (info.status === 'green' || info.status === 'grey') return { collection: lib.collection, indexed, points };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Drops every collection of this store's prefix (benchmarks and tests clean up with it). */
  async dropAll(): Promise<void> {
    const { collections } = await this.read(() => this.client.getCollections());
    const prefix = this.options.collectionPrefix;
    const ours = collections.map((c) => c.name).filter((n) => n === this.meta || n === this.blobs || isImagesCollection(prefix, n));
    await this.write(() => Promise.all(ours.map((n) => this.client.deleteCollection(n))));
    for (const n of ours) this.collections.forget(n);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  async reset(tenant?: string): Promise<void> {
    await this.ensureMeta();
    const { collections } = await this.read(() => this.client.getCollections());
    const images = collections.map((c) => c.name).filter((n) => isImagesCollection(this.options.collectionPrefix, n));
    const metaFilter: QdrantFilter =
      tenant === undefined
        ? { must: [{ key: 'kind', match: { any: ['library', 'task', 'once', 'seq'] } }] }
        : { must: [{ key: 'tenant', match: { value: tenant } }] };
    // Points, not collections, are deleted: other gateway processes keep using the collections they know.
    const everything: QdrantFilter = { must_not: [{ is_empty: { key: 'lib' } }] };
    const dataFilter: QdrantFilter = tenant === undefined ? everything : { must: [{ key: 'tenant', match: { value: tenant } }] };
    await this.write(() => this.client.delete(this.meta, { wait: true, filter: metaFilter }));
    await this.write(() =>
      Promise.all(
        [...images, this.blobs].map((c) =>
          this.client.delete(c, { wait: true, filter: dataFilter }).catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
          }),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A point's vector as rows: one for a plain collection, one per view for a multivector one. */
function rowsOf(collection: string, vector: unknown): Float32Array[] {
  if (isMultivectorCollection(collection)) return (vector as number[][]).map((row) => Float32Array.from(row));
  return [Float32Array.from(vector as number[])];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
