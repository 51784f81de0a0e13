/**
 * The embedded VectorStore: SQLite (better-sqlite3, WAL) in a data directory is the record of truth;
 * search runs on an in-memory copy of each searched library, through a usearch HNSW index when the
 * library is large. See docs/architecture.md ("Embedded store") for the durability argument.
 *
 * Every write is one SQLite transaction, committed before its promise resolves; the in-memory copy and
 * the index are updated after the commit, synchronously (nothing else runs in between), and are only
 * caches: on open they are rebuilt from SQLite and the packs its rows name, so a crash between commit and
 * cache update loses nothing.
 *
 * This class holds the records-and-vectors part and composes the other two, on the same database: image
 * bytes (image-bytes.ts) and tasks with one-time claims (task-store.ts). The vectors themselves are kept
 * in pack files beside SQLite, named by its rows (vector-files.ts).
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../errors';
import { matches, type Filter } from '../../filter';
import { vectorsPerImage, type ImageRecord, type Library, type LibraryRef, type Tags } from '../../records';
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
import { AnnIndex, DEFAULT_HNSW, fileChecksumAsync, snapshotRows, type HnswParams } from './ann-index';
import { ColdLibrary } from './cold-search';
import {
  blobToVector,
  copyRecord,
  IMAGE_RECORD_COLUMNS,
  imageFromRow,
  jsonOrNull,
  libraryFromRow,
  storedRecord,
  viewsOfRow,
  vectorsToBlob,
  blobToVectors,
  type ImageRecordRow,
  type LibraryRow,
} from './codec';
import { acquireDirLock } from './dir-lock';
import { EmbeddedImageBytes } from './image-bytes';
import { moveLegacyFiles, moveLegacyOriginals, moveLegacyVectors, type LegacyMoved } from './legacy-data';
import { LibraryVectors } from './library-vectors';
import { LibraryRuntime, type AnnStatus, type RuntimeHost } from './library-runtime';
import { searchLibrary } from './library-search';
import { decodeKeyCursor, encodeKeyCursor } from '../cursor';
import { configureConnection, migrate, type Synchronous } from './schema';
import { EmbeddedTasks } from './task-store';
import { EmbeddedVectorFiles, type VectorWrite } from './vector-files';

export interface EmbeddedStoreOptions {
  /** Data directory (created if missing): store.sqlite, its WAL, vectors/ and images/ packs, and ann/ snapshots. */
  dir: string;
  /** Libraries (or filtered candidate sets) with fewer images than this are searched exactly. */
  annThreshold?: number;
  hnsw?: Partial<HnswParams>;
  /** 'normal' (default) survives a process crash; 'full' also survives power loss, at a write cost. */
  synchronous?: Synchronous;
  /** Save changed ANN indexes on close so the next open starts warm (default true). */
  persistIndexOnClose?: boolean;
  /**
   * 'background' (default): a missing index is built in a worker thread while searches stay exact.
   * 'inline': built on the spot by the search that needs it (tests; tiny deployments).
   */
  indexBuild?: 'background' | 'inline';
  /** Rows read per turn of the event loop while a library loads (default LOAD_CHUNK; tests lower it). */
  loadChunkRows?: number;
  /** Bytes after which a pack of stored originals or vectors takes no more (default PACK_BYTES; tests lower it). */
  packBytes?: number;
}

export const DEFAULT_ANN_THRESHOLD = 20_000;
const DB_FILE = 'store.sqlite';
const ANN_DIR = 'ann';
const IMAGES_DIR = 'images';
const VECTORS_DIR = 'vectors';
/** images.vector of a row whose vectors are in vector_files (the column is NOT NULL). */
const IN_VECTOR_FILES = Buffer.alloc(0);
/**
 * Rows read per turn of the event loop while a library loads (~20 µs each at 512 dimensions): ~10 ms
 * turns, so the searches answered from the snapshot meanwhile (cold-search.ts) wait little for them.
 */
const LOAD_CHUNK = 500;
type Statement = Database.Statement<unknown[], unknown>;

export type { AnnStatus } from './library-runtime';

/** A library's snapshot, verified against its checksum and memory-mapped, with its watermark. */
interface OpenedSnapshot {
  ann: AnnIndex;
  watermark: number;
}

export class EmbeddedStore implements VectorStore, RuntimeHost {
  readonly name = 'embedded';
  private readonly db: Database.Database;
  private readonly dbFile: string;
  private readonly annDir: string;
  /** The image-bytes part (image-bytes.ts): originals kept with images. */
  private readonly files: EmbeddedImageBytes;
  /** The images' vectors (vector-files.ts). */
  private readonly vectorFiles: EmbeddedVectorFiles;
  readonly annThreshold: number;
  readonly hnsw: HnswParams;
  readonly indexBuild: 'background' | 'inline';
  /** What an acknowledged write survives (EmbeddedStoreOptions.synchronous). */
  readonly synchronous: Synchronous;
  private readonly persistIndexOnClose: boolean;
  private readonly loadChunk: number;
  private readonly runtimes = new Map<number, LibraryRuntime>();
  /** Libraries whose in-memory copy is being read from SQLite, a chunk per turn of the event loop. */
  private readonly loading = new Map<number, Promise<LibraryRuntime>>();
  /** Keys written or deleted in a library while it loads: read again once the load is through. */
  private readonly changedWhileLoading = new Map<number, Set<number>>();
  /**
   * Libraries answered from their mapped snapshot while they load (cold-search.ts): the opening (checksum,
   * then map), and once open, the library itself and the keys written since the snapshot.
   */
  private readonly coldOpening = new Map<number, Promise<OpenedSnapshot | undefined>>();
  private readonly cold = new Map<number, ColdLibrary>();
  private readonly coldChanged = new Map<number, Set<number>>();
  private readonly releaseLock: () => void;
  /** Store-wide write counter; every write transaction takes the next value. */
  private version: number;
  private closed = false;
  private swept: Promise<number> = Promise.resolve(0);
  private readonly sql: Record<string, Statement>;
  private readonly tasks: EmbeddedTasks;

  private constructor(options: EmbeddedStoreOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    this.annDir = path.join(options.dir, ANN_DIR);
    fs.mkdirSync(this.annDir, { recursive: true });
    this.annThreshold = Math.max(1, options.annThreshold ?? DEFAULT_ANN_THRESHOLD);
    this.loadChunk = Math.max(1, options.loadChunkRows ?? LOAD_CHUNK);
    this.hnsw = { ...DEFAULT_HNSW, ...options.hnsw };
    this.persistIndexOnClose = options.persistIndexOnClose ?? true;
    this.indexBuild = options.indexBuild ?? 'background';
    this.synchronous = options.synchronous ?? 'normal';
    this.releaseLock = acquireDirLock(options.dir);
    try {
      this.dbFile = path.join(options.dir, DB_FILE);
      this.db = new Database(this.dbFile);
      configureConnection(this.db, this.synchronous);
      migrate(this.db);
      this.sql = this.prepareStatements();
      const durable = this.synchronous === 'full';
      this.files = new EmbeddedImageBytes(this.db, path.join(options.dir, IMAGES_DIR), durable, options.packBytes);
      this.vectorFiles = new EmbeddedVectorFiles(this.db, path.join(options.dir, VECTORS_DIR), durable, options.packBytes);
      this.tasks = new EmbeddedTasks(this.db, () => this.checkOpen());
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'write_version'").get() as
        | { value: string }
        | undefined;
      this.version = row ? Number(row.value) : 0;
      this.cleanUpIndexFiles();
    } catch (e) {
      this.releaseLock();
      throw e;
    }
    this.sweepPacks();
  }

  /** In the background: removes image files a crash left unreferenced (image-files.ts), checks the packs of earlier runs. */
  private sweepPacks(): void {
    this.swept = this.files.sweep(() => this.closed);
    this.vectorFiles.checkEarlierPacks();
  }

  /** Resolves how many unreferenced image files the sweep at open removed, once it has finished. */
  whenSwept(): Promise<number> {
    return this.swept;
  }

  /** Resolves once the packs of stored originals and vectors that lost ranges are removed or compacted (pack-space.ts). */
  async whenReclaimed(): Promise<void> {
    await this.swept;
    await Promise.all([this.files.whenReclaimed(), this.vectorFiles.whenReclaimed()]);
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    return new EmbeddedStore(options);
  }

  private prepareStatements(): Record<string, Statement> {
    const p = (s: string) => this.db.prepare(s);
    return {
      libraryByRef: p('SELECT * FROM libraries WHERE tenant = ? AND name = ?'),
      librariesOfTenant: p('SELECT * FROM libraries WHERE tenant = ? ORDER BY name'),
      insertLibrary: p(`INSERT INTO libraries (tenant, name, mode, model, description, tag_keys, capacity, extra, created_at, views)
        VALUES (@tenant, @name, @mode, @model, @description, @tag_keys, @capacity, @extra, @created_at, @views)`),
      setDimension: p('UPDATE libraries SET dimension = ? WHERE lib_id = ?'),
      setAnnSnapshot: p('UPDATE libraries SET ann_version = ?, ann_checksum = ? WHERE lib_id = ?'),
      setVersion: p("INSERT INTO meta (key, value) VALUES ('write_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
      // Positional parameters on the statements every write runs: bound by name, better-sqlite3 looks each
      // one up on an object (~15 % more of SQLite's user time at 300k rows). No RETURNING: with it SQLite
      // opens a statement journal and copies each row's pages to it (a 300k-row bulk insert: 11 page writes per
      // row instead of 1, 40 % of SQLite's CPU), so a new row's key is the connection's last rowid and a replaced
      // row's is looked up.
      insertImage: p(`INSERT INTO images (lib_id, id, item_id, uri, tags, extra, has_image, created_at, updated_at, version, vector)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lib_id, id) DO NOTHING`),
      replaceImage: p(`UPDATE images SET item_id = ?, uri = ?, tags = ?, extra = ?, has_image = ?, created_at = ?, updated_at = ?,
        version = ?, vector = ? WHERE image_key = ?`),
      keyById: p('SELECT image_key FROM images WHERE lib_id = ? AND id = ?').pluck(),
      imageById: p(`SELECT ${IMAGE_RECORD_COLUMNS} FROM images WHERE lib_id = ? AND id = ?`),
      imageByKey: p(`SELECT ${IMAGE_RECORD_COLUMNS} FROM images WHERE image_key = ?`),
      vectorById: p(`SELECT vector, ${VECTOR_FILE} FROM images WHERE lib_id = ? AND id = ?`),
      updateImage: p(`UPDATE images SET tags = coalesce(@tags, tags), extra = CASE WHEN @set_extra THEN @extra ELSE extra END,
        updated_at = @updated_at WHERE lib_id = @lib_id AND id = @id RETURNING image_key`),
      deleteImage: p('DELETE FROM images WHERE image_key = ?'),
      insertTombstone: p('INSERT INTO image_tombstones (lib_id, image_key, version) VALUES (?, ?, ?)'),
      pruneTombstones: p('DELETE FROM image_tombstones WHERE lib_id = ? AND version <= ?'),
      deleteTombstones: p('DELETE FROM image_tombstones WHERE lib_id = ?'),
      countImages: p('SELECT count(*) AS n FROM images WHERE lib_id = ?'),
      tagsOfLibrary: p('SELECT tags FROM images WHERE lib_id = ?'),
      loadChunk: p(`SELECT ${IMAGE_RECORD_COLUMNS}, vector, ${VECTOR_FILE} FROM images INDEXED BY images_by_lib
        WHERE lib_id = ? AND image_key > ? ORDER BY image_key LIMIT ?`),
      rowByKey: p(`SELECT ${IMAGE_RECORD_COLUMNS}, vector, ${VECTOR_FILE} FROM images WHERE image_key = ? AND lib_id = ?`),
      libraryExists: p('SELECT 1 FROM libraries WHERE lib_id = ?').pluck(),
      changedSince: p('SELECT image_key FROM images WHERE lib_id = ? AND version > ?'),
      deletedSince: p('SELECT image_key FROM image_tombstones WHERE lib_id = ? AND version > ?'),
    };
  }

  /** Removes leftovers of interrupted saves and snapshots SQLite no longer vouches for. */
  private cleanUpIndexFiles(): void {
    const vouched = new Map<number, number | null>();
    for (const row of this.db.prepare('SELECT lib_id, ann_version FROM libraries').all() as Array<{
      lib_id: number;
      ann_version: number | null;
    }>) {
      vouched.set(row.lib_id, row.ann_version);
    }
    for (const file of fs.readdirSync(this.annDir)) {
      const match = /^lib-(\d+)\.usearch$/.exec(file);
      const libId = match ? Number(match[1]) : undefined;
      if (libId === undefined || vouched.get(libId) == null) fs.rmSync(path.join(this.annDir, file), { force: true });
    }
    // Tombstones only matter for libraries with a snapshot.
    this.db.exec(`DELETE FROM image_tombstones WHERE lib_id NOT IN
      (SELECT lib_id FROM libraries WHERE ann_version IS NOT NULL)`);
  }

  // RuntimeHost: what a library runtime needs from the store.

  snapshotFile(libId: number): string {
    return path.join(this.annDir, `lib-${libId}.usearch`);
  }

  currentVersion(): number {
    return this.version;
  }

  isCurrent(runtime: LibraryRuntime): boolean {
    return !this.closed && this.runtimes.get(runtime.libId) === runtime;
  }

  recordSnapshot(libId: number, watermark: number | null, checksum: string | null): void {
    this.db.transaction(() => {
      this.sql.setAnnSnapshot.run(watermark, checksum, libId);
      if (watermark === null) this.sql.deleteTombstones.run(libId);
      else this.sql.pruneTombstones.run(libId, watermark);
    })();
  }

  changedSince(libId: number, watermark: number): Set<number> {
    const changed = new Set<number>();
    for (const r of this.sql.changedSince.all(libId, watermark) as Array<{ image_key: number }>) changed.add(r.image_key);
    for (const r of this.sql.deletedSince.all(libId, watermark) as Array<{ image_key: number }>) changed.add(r.image_key);
    return changed;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('embedded store is closed');
  }

  private libraryRow(ref: LibraryRef): LibraryRow | undefined {
    return this.sql.libraryByRef.get(ref.tenant, ref.name) as LibraryRow | undefined;
  }

  private requireLibrary(ref: LibraryRef): LibraryRow {
    this.checkOpen();
    const row = this.libraryRow(ref);
    if (!row) throw new NotFoundError('library', ref.name);
    return row;
  }

  private nextVersion(): number {
    this.version += 1;
    this.sql.setVersion.run(String(this.version));
    return this.version;
  }

  // ---------------------------------------------------------------------------------------------
  // Libraries

  async createLibrary(library: Library): Promise<void> {
    this.checkOpen();
    if (this.libraryRow(library)) throw new AlreadyExistsError('library', library.name);
    this.sql.insertLibrary.run({
      tenant: library.tenant,
      name: library.name,
      mode: library.mode,
      model: library.model,
      description: library.description ?? null,
      tag_keys: jsonOrNull(library.tagKeys),
      capacity: library.capacity ?? null,
      extra: jsonOrNull(library.extra),
      created_at: library.createdAt,
      views: library.views && library.views.length > 1 ? JSON.stringify(library.views) : null,
    });
    // In memory from the start, empty (nothing to read): its writes keep it current, and a bulk load is
    // indexed as it arrives (LibraryRuntime.afterWrites) instead of read back and indexed after.
    const lib = this.libraryRow(library)!;
    this.runtimes.set(lib.lib_id, this.emptyRuntime(lib, 1));
  }

  /** The runtime of a library with no images yet, for vectors of `dim`. */
  private emptyRuntime(lib: LibraryRow, dim: number): LibraryRuntime {
    return new LibraryRuntime(this, lib.lib_id, new LibraryVectors(dim, 16, vectorsPerImage({ views: viewsOfRow(lib) })), null);
  }

  async getLibrary(ref: LibraryRef): Promise<Library | undefined> {
    this.checkOpen();
    const row = this.libraryRow(ref);
    return row ? libraryFromRow(row) : undefined;
  }

  async listLibraries(tenant: string): Promise<Library[]> {
    this.checkOpen();
    return (this.sql.librariesOfTenant.all(tenant) as LibraryRow[]).map(libraryFromRow);
  }

  async deleteLibrary(ref: LibraryRef): Promise<boolean> {
    this.checkOpen();
    const row = this.libraryRow(ref);
    if (!row) return false;
    const files = this.deleteLibraryRows([row.lib_id]);
    await this.dropRuntime(row.lib_id);
    await this.files.remove(files);
    return true;
  }

  /**
   * Every row of these libraries, in one transaction; values are bound, never spliced into SQL text.
   * Resolves the image files the rows named, to remove once the transaction has committed.
   */
  private deleteLibraryRows(libIds: number[]): string[] {
    const files: string[] = [];
    const statements = [
      'DELETE FROM images WHERE lib_id = ?',
      'DELETE FROM image_tombstones WHERE lib_id = ?',
      'DELETE FROM libraries WHERE lib_id = ?',
    ].map((sql) => this.db.prepare(sql));
    this.db.transaction(() => {
      for (const id of libIds) {
        this.files.unlinkLibrary(id, files);
        this.vectorFiles.unlinkLibrary(id);
        for (const statement of statements) statement.run(id);
      }
    })();
    return files;
  }

  private async dropRuntime(libId: number): Promise<void> {
    const runtime = this.runtimes.get(libId);
    this.runtimes.delete(libId);
    this.forgetCold(libId);
    fs.rmSync(this.snapshotFile(libId), { force: true });
    await runtime?.cancelBuild();
  }

  // ---------------------------------------------------------------------------------------------
  // Images

  async upsertImages(ref: LibraryRef, writes: ImageWrite[]): Promise<void> {
    const perImage = vectorsPerImage({ views: viewsOfRow(this.requireLibrary(ref)) });
    if (writes.length === 0) return;
    let dim: number | undefined;
    for (const w of writes) {
      if (!(w.vector instanceof Float32Array) || w.vector.length === 0) {
        throw new InvalidArgumentError('vector', 'vector must be a non-empty Float32Array');
      }
      dim ??= w.vector.length;
      if (w.vector.length !== dim) throw dimensionError(w.vector.length, dim);
      checkViews(w, perImage, dim);
      if (typeof w.record.id !== 'string' || w.record.id === '') {
        throw new InvalidArgumentError('id', 'image id must be a non-empty string');
      }
    }
    // The originals and the vectors are written first: a committed row never names bytes that are not complete.
    const [written, vectors] = await this.writeFilesOf(writes);
    const replaced: string[] = [];
    let stored: StoredWrite[];
    let lib: LibraryRow;
    try {
      this.checkOpen();
      lib = this.requireLibrary(ref); // read again: it may have been deleted or given its dimension meanwhile
      if (lib.dimension !== null && lib.dimension !== dim) throw dimensionError(dim!, lib.dimension);
      stored = this.writeImageRows(lib, writes, written, vectors.names, dim!, replaced);
    } catch (e) {
      this.vectorFiles.abandon(vectors);
      await this.files.abandon(written);
      throw e;
    }
    // The in-memory copy follows the commit with nothing in between (no await), as every write does.
    let runtime = this.runtimes.get(lib.lib_id);
    if (runtime && runtime.vectors.dim !== dim) {
      // Loaded while the library was still empty (no dimension yet): these are its first vectors.
      runtime = runtime.vectors.size === 0 ? this.emptyRuntime(lib, dim!) : undefined;
      if (runtime) this.runtimes.set(lib.lib_id, runtime);
      else this.runtimes.delete(lib.lib_id);
    }
    if (runtime) {
      for (const s of stored) {
        runtime.vectors.put(s.key, s.record, s.vector, s.views);
        runtime.noteChange(s.key);
      }
      runtime.afterWrites(lib);
    }
    this.noteChangedWhileLoading(lib.lib_id, stored.map((s) => s.key));
    this.vectorFiles.settle(vectors);
    this.files.settle(written);
    await this.files.remove(replaced);
  }

  /**
   * The originals of `writes` (undefined for those without one) and their vectors, written side by side;
   * on a failure nothing written stays unsettled.
   */
  private async writeFilesOf(writes: ImageWrite[]): Promise<[originals: Array<string | undefined>, vectors: VectorWrite]> {
    const [[vectors], originals] = await Promise.all([
      Promise.allSettled([this.vectorFiles.write(writes.map((w) => vectorsToBlob(w.vector, w.views)))]),
      Promise.allSettled(writes.map((w) => (w.image === undefined ? undefined : this.files.write(w.image)))),
    ]);
    const written = originals.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    if (vectors.status === 'fulfilled' && originals.every((r) => r.status === 'fulfilled')) return [written, vectors.value];
    if (vectors.status === 'fulfilled') this.vectorFiles.abandon(vectors.value);
    await this.files.abandon(written);
    throw [vectors, ...originals].find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
  }

  /** The write transaction of upsertImages; collects in `replaced` the image files it unlinks from rows. */
  private writeImageRows(
    lib: LibraryRow,
    writes: ImageWrite[],
    files: Array<string | undefined>,
    vectorNames: string[],
    dim: number,
    replaced: string[],
  ) {
    const stored: StoredWrite[] = [];
    this.db.transaction(() => {
      const version = this.nextVersion();
      if (lib.dimension === null) this.sql.setDimension.run(dim, lib.lib_id);
      writes.forEach((w, i) => {
        const r = w.record;
        const file = files[i];
        const columns = [
          r.itemId ?? null,
          r.uri ?? null,
          JSON.stringify(r.tags ?? {}),
          jsonOrNull(r.extra),
          file !== undefined ? 1 : 0,
          r.createdAt,
          r.updatedAt,
          version,
          IN_VECTOR_FILES,
        ];
        const inserted = this.sql.insertImage.run(lib.lib_id, r.id, ...columns);
        let key: number;
        if (inserted.changes === 1) {
          key = Number(inserted.lastInsertRowid);
          this.files.linkNew(key, file);
          this.vectorFiles.linkNew(key, vectorNames[i]);
        } else {
          key = this.sql.keyById.get(lib.lib_id, r.id) as number;
          this.sql.replaceImage.run(...columns, key);
          const previous = this.files.link(key, file);
          if (previous !== undefined) replaced.push(previous);
          this.vectorFiles.link(key, vectorNames[i]);
        }
        stored.push({ key, record: storedRecord(r, file !== undefined), vector: w.vector, views: w.views });
      });
    })();
    return stored;
  }

  async getImage(ref: LibraryRef, id: string): Promise<ImageRecord | undefined> {
    const lib = this.requireLibrary(ref);
    const row = this.sql.imageById.get(lib.lib_id, id) as ImageRecordRow | undefined;
    return row ? imageFromRow(row) : undefined;
  }

  async getImages(ref: LibraryRef, ids: string[]): Promise<ImageRecord[]> {
    const lib = this.requireLibrary(ref);
    const out: ImageRecord[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const row = this.sql.imageById.get(lib.lib_id, id) as ImageRecordRow | undefined;
      if (row) out.push(imageFromRow(row));
    }
    return out;
  }

  async getImageBytes(ref: LibraryRef, id: string): Promise<Buffer | undefined> {
    const lib = this.requireLibrary(ref);
    return this.files.read(lib.lib_id, id);
  }

  async getVector(ref: LibraryRef, id: string): Promise<Float32Array | undefined> {
    const lib = this.requireLibrary(ref);
    const row = this.sql.vectorById.get(lib.lib_id, id) as VectorColumns | undefined;
    return row ? blobToVectors(this.vectorBytes(row), lib.dimension!)[0] : undefined;
  }

  async getViews(ref: LibraryRef, id: string): Promise<Float32Array[] | undefined> {
    const lib = this.requireLibrary(ref);
    const row = this.sql.vectorById.get(lib.lib_id, id) as VectorColumns | undefined;
    return row ? blobToVectors(this.vectorBytes(row), lib.dimension!).slice(1) : undefined;
  }

  /** A row's vectors as one blob (codec.ts's layout), read in the same turn as the row (vector-files.ts). */
  private vectorBytes(row: VectorColumns): Buffer {
    return row.vector_file !== null ? this.vectorFiles.read(row.vector_file) : row.vector;
  }

  async updateImage(
    ref: LibraryRef,
    id: string,
    patch: { tags?: Tags; extra?: Record<string, unknown> },
  ): Promise<boolean> {
    const lib = this.requireLibrary(ref);
    const updated = this.sql.updateImage.get({
      lib_id: lib.lib_id,
      id,
      tags: patch.tags === undefined ? null : JSON.stringify(patch.tags),
      set_extra: patch.extra === undefined ? 0 : 1,
      extra: jsonOrNull(patch.extra),
      updated_at: Date.now(),
    }) as { image_key: number } | undefined;
    if (!updated) return false;
    const runtime = this.runtimes.get(lib.lib_id);
    if (runtime) {
      const row = this.sql.imageByKey.get(updated.image_key) as ImageRecordRow;
      runtime.vectors.replaceRecord(updated.image_key, imageFromRow(row));
    }
    this.noteChangedWhileLoading(lib.lib_id, [updated.image_key]);
    return true;
  }

  async deleteImages(ref: LibraryRef, selector: ImageSelector): Promise<string[]> {
    const lib = this.requireLibrary(ref);
    const { ids, itemIds, filter } = selector;
    if (ids === undefined && itemIds === undefined && filter === undefined) return [];
    if (ids?.length === 0 || itemIds?.length === 0) return [];
    const victims = this.selectImages(lib.lib_id, ids, itemIds, filter);
    if (victims.length === 0) return [];
    const files: string[] = [];
    this.db.transaction(() => {
      const version = this.nextVersion();
      for (const v of victims) {
        const file = this.files.unlink(v.key);
        if (file !== undefined) files.push(file);
        this.vectorFiles.unlink(v.key);
        this.sql.deleteImage.run(v.key);
        // Always: a snapshot may be in the making (its watermark is older than this deletion).
        this.sql.insertTombstone.run(lib.lib_id, v.key, version);
      }
    })();
    const runtime = this.runtimes.get(lib.lib_id);
    if (runtime) {
      for (const v of victims) {
        runtime.vectors.remove(v.key);
        runtime.noteChange(v.key);
      }
    }
    this.noteChangedWhileLoading(lib.lib_id, victims.map((v) => v.key));
    await this.files.remove(files);
    return victims.map((v) => v.id);
  }

  /** Keys and ids of the images matching all given selector fields, in key order. */
  private selectImages(
    libId: number,
    ids: string[] | undefined,
    itemIds: string[] | undefined,
    filter: Filter | undefined,
  ): Array<{ key: number; id: string }> {
    const where = ['lib_id = @lib_id'];
    if (ids) where.push('id IN (SELECT value FROM json_each(@ids))');
    if (itemIds) where.push('item_id IN (SELECT value FROM json_each(@item_ids))');
    const stmt = this.db.prepare(`SELECT image_key, id, tags FROM images WHERE ${where.join(' AND ')} ORDER BY image_key`);
    const params: Record<string, unknown> = { lib_id: libId };
    if (ids) params.ids = JSON.stringify(ids);
    if (itemIds) params.item_ids = JSON.stringify(itemIds);
    const out: Array<{ key: number; id: string }> = [];
    for (const row of stmt.iterate(params) as Iterable<{ image_key: number; id: string; tags: string }>) {
      if (filter && !matches(filter, JSON.parse(row.tags) as Tags)) continue;
      out.push({ key: row.image_key, id: row.id });
    }
    return out;
  }

  async listImages(ref: LibraryRef, options: ListOptions): Promise<ListPage> {
    const lib = this.requireLibrary(ref);
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new InvalidArgumentError('limit', 'limit must be a positive integer');
    }
    const after = options.cursor === undefined ? 0 : decodeKeyCursor(options.cursor);
    const where = ['lib_id = ?', 'image_key > ?'];
    const params: unknown[] = [lib.lib_id, after];
    if (options.itemId !== undefined) {
      where.push('item_id = ?');
      params.push(options.itemId);
    }
    const stmt = this.db.prepare(
      `SELECT ${IMAGE_RECORD_COLUMNS} FROM images WHERE ${where.join(' AND ')} ORDER BY image_key`,
    );
    const images: ImageRecord[] = [];
    let lastKey = after;
    let more = false;
    for (const row of stmt.iterate(...params) as Iterable<ImageRecordRow>) {
      const record = imageFromRow(row);
      if (options.filter && !matches(options.filter, record.tags)) continue;
      if (images.length === options.limit) {
        more = true;
        break;
      }
      images.push(record);
      lastKey = row.image_key;
    }
    return more ? { images, nextCursor: encodeKeyCursor(lastKey) } : { images };
  }

  async countImages(ref: LibraryRef, filter?: Filter): Promise<number> {
    const lib = this.requireLibrary(ref);
    if (!filter) return (this.sql.countImages.get(lib.lib_id) as { n: number }).n;
    const runtime = this.runtimes.get(lib.lib_id);
    let n = 0;
    if (runtime) {
      for (let slot = 0; slot < runtime.vectors.size; slot++) {
        if (matches(filter, runtime.vectors.records[slot].tags)) n++;
      }
      return n;
    }
    for (const row of this.sql.tagsOfLibrary.iterate(lib.lib_id) as Iterable<{ tags: string }>) {
      if (matches(filter, JSON.parse(row.tags) as Tags)) n++;
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Search

  async search(refs: LibraryRef[], query: Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    this.checkOpen();
    const offset = options.offset ?? 0;
    if (!Number.isInteger(options.limit) || options.limit < 0) {
      throw new InvalidArgumentError('limit', 'limit must be a non-negative integer');
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw new InvalidArgumentError('offset', 'offset must be a non-negative integer');
    }
    const libs = refs.map((ref) => this.requireLibrary(ref));
    let dim: number | undefined;
    for (const lib of libs) {
      if (lib.dimension === null) continue;
      if (dim !== undefined && lib.dimension !== dim) {
        throw new InvalidArgumentError('libraries', 'libraries searched together must share a vector dimension');
      }
      dim = lib.dimension;
    }
    if (dim !== undefined && query.length !== dim) {
      throw new InvalidArgumentError('vector', `query has dimension ${query.length}, library has ${dim}`);
    }
    const need = offset + options.limit;
    if (need === 0) return [];
    // usearch reads a typed array from the start of its buffer, ignoring byteOffset: a view into a larger
    // buffer (a subarray) would search another vector, so it is copied into an array of its own.
    if (query.byteOffset !== 0 || query.byteLength !== query.buffer.byteLength) query = query.slice();
    const excludeIds = new Set(options.excludeIds ?? []);
    const merged: SearchHit[] = [];
    const seen = new Set<number>();
    for (const lib of libs) {
      if (lib.dimension === null || seen.has(lib.lib_id)) continue;
      seen.add(lib.lib_id);
      // Only a search naming views needs the library's (the common search names none).
      const views = options.views && viewRows(viewsOfRow(lib), options.views);
      if (views?.length === 0) continue;
      const libOptions = { need, filter: options.filter, minSimilarity: options.minSimilarity, distinctItem: options.distinctItem, excludeIds, views };
      const ready = await this.runtimeOrCold(lib);
      if (ready instanceof ColdLibrary) {
        const hits = ready.search(query, libOptions);
        if (hits) {
          for (const h of hits) merged.push({ library: lib.name, record: h.record, similarity: h.score });
          continue;
        }
      }
      const runtime = ready instanceof ColdLibrary ? await this.runtime(lib) : ready;
      const ann = runtime.annFor(lib);
      const { hits, path: searchPath } = await searchLibrary(runtime.vectors, query, libOptions, { annThreshold: this.annThreshold, ann });
      runtime.lastPath = searchPath;
      for (const h of hits) merged.push({ library: lib.name, record: h.record, similarity: h.score });
    }
    merged.sort(
      (a, b) =>
        b.similarity - a.similarity ||
        (a.library < b.library ? -1 : a.library > b.library ? 1 : 0) ||
        (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0),
    );
    return merged.slice(offset, need).map((h) => ({ ...h, record: copyRecord(h.record) }));
  }

  /**
   * The library's in-memory copy, read from SQLite on first need in chunks of LOAD_CHUNK rows, one per
   * turn of the event loop, so that opening a large library never holds the loop (health checks and other
   * libraries keep answering). Searches of the library wait for it; writes meanwhile go on, and the keys
   * they touch are read again at the end.
   */
  private runtime(lib: LibraryRow): Promise<LibraryRuntime> {
    const ready = this.runtimes.get(lib.lib_id);
    if (ready) return Promise.resolve(ready);
    let loading = this.loading.get(lib.lib_id);
    if (!loading) {
      loading = this.loadRuntime(lib).finally(() => this.loading.delete(lib.lib_id));
      this.loading.set(lib.lib_id, loading);
    }
    return loading;
  }

  /**
   * The library's loaded copy when it is ready, else (a large library with a snapshot, after a start) what
   * comes first of the loaded copy and its mapped snapshot (cold-search.ts): the snapshot is verified and
   * mapped in about a second per million images, the rows take several.
   */
  private async runtimeOrCold(lib: LibraryRow): Promise<LibraryRuntime | ColdLibrary> {
    const ready = this.runtimes.get(lib.lib_id);
    if (ready) return ready;
    const loading = this.runtime(lib);
    const loaded = this.runtimes.get(lib.lib_id); // a small library loads at once
    if (loaded) return loaded;
    const cold = this.cold.get(lib.lib_id);
    if (cold?.usable) return cold;
    const opening = this.openCold(lib);
    if (!opening) return loading;
    const coldOrLoaded = opening.then<LibraryRuntime | ColdLibrary>((c) => (c?.usable ? c : loading));
    return Promise.race([loading, coldOrLoaded]);
  }

  /** The images in the library's recorded snapshot, read from its header; undefined without one. */
  private snapshotImages(lib: LibraryRow): number | undefined {
    if (lib.ann_version === null || lib.dimension === null) return undefined;
    const rows = snapshotRows(this.snapshotFile(lib.lib_id), lib.dimension);
    return rows === undefined ? undefined : Math.floor(rows / vectorsPerImage({ views: viewsOfRow(lib) }));
  }

  /**
   * The library's cold side (cold-search.ts) once its snapshot is verified and mapped; starts that when the
   * library has a snapshot worth it. Undefined when it has none, or its loaded copy came first.
   */
  private openCold(lib: LibraryRow): Promise<ColdLibrary | undefined> | undefined {
    const libId = lib.lib_id;
    let opening = this.coldOpening.get(libId);
    if (!opening) {
      const { ann_version: watermark, ann_checksum: checksum, dimension: dim } = lib;
      if (this.indexBuild !== 'background' || watermark === null || checksum === null || dim === null) return undefined;
      const file = this.snapshotFile(libId);
      const images = this.snapshotImages(lib);
      if (images === undefined || images < this.annThreshold) return undefined;
      opening = (async () => {
        const actual = await fileChecksumAsync(file).catch(() => undefined);
        if (actual !== checksum || this.closed || this.sql.libraryExists.get(libId) === undefined) return undefined;
        const ann = AnnIndex.openVerified(file, dim, this.hnsw, images);
        return ann && { ann, watermark };
      })();
      this.coldOpening.set(libId, opening);
    }
    return opening.then((opened) => (opened && !this.closed && !this.runtimes.has(libId) ? this.coldLibrary(lib, opened) : undefined));
  }

  /** The cold side of a library over its opened snapshot (one per library until its copy is loaded). */
  private coldLibrary(lib: LibraryRow, { ann, watermark }: OpenedSnapshot): ColdLibrary {
    const libId = lib.lib_id;
    const known = this.cold.get(libId);
    if (known) return known;
    // Nothing awaits from here on: every write after the watermark is in `changed` (the committed ones from
    // SQLite now, later ones as noteChangedWhileLoading sees them).
    const changed = this.changedSince(libId, watermark);
    this.coldChanged.set(libId, changed);
    const read = (key: number) => {
      const row = this.sql.rowByKey.get(key, libId) as StoredRow | undefined;
      return row && { record: imageFromRow(row), vectors: blobToVector(this.vectorBytes(row)) };
    };
    const cold = new ColdLibrary(ann, watermark, lib.dimension!, vectorsPerImage({ views: viewsOfRow(lib) }), changed, read);
    this.cold.set(libId, cold);
    return cold;
  }

  /** The loaded copy takes over the snapshot a cold opening verified (or is verifying), instead of reading it again. */
  private handOverCold(runtime: LibraryRuntime): void {
    const opening = this.coldOpening.get(runtime.libId);
    this.forgetCold(runtime.libId);
    if (opening) runtime.adoptOpening(opening);
  }

  private forgetCold(libId: number): void {
    this.coldOpening.delete(libId);
    this.cold.delete(libId);
    this.coldChanged.delete(libId);
  }

  private async loadRuntime(lib: LibraryRow): Promise<LibraryRuntime> {
    const changed = new Set<number>();
    this.changedWhileLoading.set(lib.lib_id, changed);
    try {
      // Room for the images the snapshot holds and a few more (capacity no row was written to costs no
      // memory); counted only without one: COUNT(*) over a million images held the loop 20–170 ms on
      // the way to the first answer.
      const snapshot = this.snapshotImages(lib);
      const capacity = snapshot !== undefined ? Math.ceil(snapshot * 1.05) : (this.sql.countImages.get(lib.lib_id) as { n: number }).n;
      const vectors = new LibraryVectors(lib.dimension ?? 1, capacity, vectorsPerImage({ views: viewsOfRow(lib) }));
      const put = (row: ImageRecordRow, bytes: Buffer) => vectors.putStored(row.image_key, imageFromRow(row), bytes);
      if (lib.dimension !== null) {
        for (let after = 0; ; ) {
          const rows = this.sql.loadChunk.all(lib.lib_id, after, this.loadChunk) as StoredRow[];
          // The chunk's vectors in one pass over their packs (rows written together lie side by side).
          const packed = this.vectorFiles.readAll(rows.filter((r) => r.vector_file !== null).map((r) => r.vector_file!));
          let next = 0;
          for (const row of rows) put(row, row.vector_file !== null ? packed[next++] : row.vector);
          if (rows.length < this.loadChunk) break;
          after = rows[rows.length - 1].image_key;
          await new Promise((resolve) => setImmediate(resolve));
          this.checkOpen();
        }
      }
      // From here to the end nothing awaits: no write can slip between the re-read and the registration.
      for (const key of changed) {
        const row = this.sql.rowByKey.get(key, lib.lib_id) as StoredRow | undefined;
        if (row) put(row, this.vectorBytes(row));
        else vectors.remove(key);
      }
      const runtime = new LibraryRuntime(this, lib.lib_id, vectors, lib.ann_version);
      const current = this.sql.libraryExists.get(lib.lib_id) !== undefined;
      if (current && !this.closed) {
        this.runtimes.set(lib.lib_id, runtime);
        this.handOverCold(runtime);
      }
      return runtime;
    } finally {
      this.changedWhileLoading.delete(lib.lib_id);
    }
  }

  private noteChangedWhileLoading(libId: number, keys: number[]): void {
    for (const changed of [this.changedWhileLoading.get(libId), this.coldChanged.get(libId)]) {
      if (changed) for (const key of keys) changed.add(key);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Embedded-only operations (not part of VectorStore): used by tests, the bench and warm-up.

  /**
   * Makes the library's ANN index ready now when the library is large enough: loads the snapshot or
   * builds (waiting for the background build). Resolves the index status.
   */
  async ensureAnnIndex(ref: LibraryRef): Promise<AnnStatus> {
    const runtime = await this.runtime(this.requireLibrary(ref));
    return runtime.ensureIndex(() => this.requireLibrary(ref));
  }

  /**
   * Verifies and maps the library's snapshot to answer from before its rows are loaded, as the first search
   * after a start does beside the load (cold-search.ts); resolves whether searches can be answered from it.
   */
  async openColdSnapshot(ref: LibraryRef): Promise<boolean> {
    const lib = this.requireLibrary(ref);
    if (this.runtimes.has(lib.lib_id)) return false;
    return (await this.openCold(lib))?.usable ?? false;
  }

  async annStatus(ref: LibraryRef): Promise<AnnStatus> {
    const lib = this.requireLibrary(ref);
    const runtime = this.runtimes.get(lib.lib_id);
    if (!runtime) {
      const images = (this.sql.countImages.get(lib.lib_id) as { n: number }).n;
      const cold = this.cold.get(lib.lib_id);
      if (!cold) return { images, state: 'none', indexed: 0 };
      // Loading, answered from the mapped snapshot meanwhile.
      return { images, state: 'building', source: 'snapshot', indexed: cold.ann.size, ...(cold.lastPath ? { lastSearchPath: cold.lastPath } : {}) };
    }
    return runtime.status();
  }

  // ---------------------------------------------------------------------------------------------
  // Tasks and one-time claims (task-store.ts)

  putTask(task: TaskRecord): Promise<void> {
    return this.tasks.putTask(task);
  }

  getTask(tenant: string, id: string): Promise<TaskRecord | undefined> {
    return this.tasks.getTask(tenant, id);
  }

  deleteTask(tenant: string, id: string): Promise<boolean> {
    return this.tasks.deleteTask(tenant, id);
  }

  listUnfinishedTasks(): Promise<TaskRecord[]> {
    return this.tasks.listUnfinishedTasks();
  }

  listTasks(tenant: string, scope: string): Promise<TaskRecord[]> {
    return this.tasks.listTasks(tenant, scope);
  }

  nextSequence(tenant: string, scope: string, from?: number): Promise<number> {
    return this.tasks.nextSequence(tenant, scope, from);
  }

  claimOnce(scope: string, token: string, expiresAt: number): Promise<boolean> {
    return this.tasks.claimOnce(scope, token, expiresAt);
  }

  async listTenants(): Promise<string[]> {
    this.checkOpen();
    const rows = this.db.prepare('SELECT tenant FROM libraries UNION SELECT tenant FROM tasks ORDER BY tenant').all() as Array<{ tenant: string }>;
    return rows.map((r) => r.tenant);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  async reset(tenant?: string): Promise<void> {
    this.checkOpen();
    const libIds =
      tenant === undefined
        ? [...this.runtimes.keys()]
        : (this.db.prepare('SELECT lib_id FROM libraries WHERE tenant = ?').all(tenant) as Array<{ lib_id: number }>).map(
            (r) => r.lib_id,
          );
    let files: string[] = [];
    if (tenant === undefined) {
      this.db.transaction(() => {
        files = this.files.unlinkAll();
        this.vectorFiles.unlinkAll();
        for (const table of ['images', 'image_tombstones', 'libraries']) {
          this.db.exec(`DELETE FROM ${table}`);
        }
        this.tasks.reset();
      })();
    } else {
      this.db.transaction(() => {
        files = this.deleteLibraryRows(libIds);
        this.tasks.reset(tenant);
      })();
    }
    await Promise.all(libIds.map((id) => this.dropRuntime(id)));
    await this.files.remove(files);
    if (tenant === undefined) {
      for (const file of fs.readdirSync(this.annDir)) fs.rmSync(path.join(this.annDir, file), { force: true });
    }
  }

  /**
   * Moves the vectors and originals older builds kept inside SQLite, and the originals they kept in a file
   * each, into the packs (legacy-data.ts), then rebuilds SQLite's file (VACUUM) so that the space they took
   * goes back to the disk: `isg store compact`, with the gateway stopped, since VACUUM holds the store while
   * it rewrites the file (seconds per GB).
   * Needs synchronous "full": the packs must hold the bytes on disk before the old copy goes.
   * `progress` is called after each batch with the running counts.
   */
  async moveLegacyData(progress: (moved: LegacyMoved) => void = () => undefined): Promise<LegacyMoved & { sqliteBytes: { before: number; after: number } }> {
    this.checkOpen();
    if (this.synchronous !== 'full') throw new Error('moving what older builds kept outside the packs needs synchronous "full"');
    const before = this.sqliteBytes();
    const moved: LegacyMoved = { vectors: 0, originals: 0 };
    moved.vectors = await moveLegacyVectors(this.db, this.vectorFiles, (n) => progress({ ...moved, vectors: n }));
    moved.originals = await moveLegacyOriginals(this.db, this.files, (n) => progress({ ...moved, originals: n }));
    const inSqlite = moved.originals;
    moved.originals += await moveLegacyFiles(this.db, this.files, (n) => progress({ ...moved, originals: inSqlite + n }));
    this.db.exec('VACUUM');
    this.db.pragma('wal_checkpoint(TRUNCATE)'); // in WAL mode the file shrinks at the checkpoint
    return { ...moved, sqliteBytes: { before, after: this.sqliteBytes() } };
  }

  /** The bytes of SQLite's files (the database and its write-ahead log). */
  private sqliteBytes(): number {
    const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);
    return size(this.dbFile) + size(`${this.dbFile}-wal`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const runtimes = [...this.runtimes.values()];
    await Promise.all(runtimes.map((r) => r.cancelBuild()));
    if (this.persistIndexOnClose) for (const runtime of runtimes) runtime.saveIfChanged();
    this.runtimes.clear();
    await Promise.all([this.files.close(), this.vectorFiles.close()]);
    this.db.close();
    this.releaseLock();
  }
}

/** Where a row's vectors are: in the pack range `vector_file` names, or (rows of older builds) in `vector`. */
interface VectorColumns {
  vector: Buffer;
  vector_file: string | null;
}

type StoredRow = ImageRecordRow & VectorColumns;

/** The select-list item giving a row of `images` its vector_file. */
const VECTOR_FILE = '(SELECT file FROM vector_files WHERE image_key = images.image_key) AS vector_file';

/** A row as written, for the in-memory copy. */
interface StoredWrite {
  key: number;
  record: ImageRecord;
  vector: Float32Array;
  views?: Float32Array[];
}

function dimensionError(got: number, want: number): InvalidArgumentError {
  return new InvalidArgumentError('vector', `vector has dimension ${got}, library has ${want}`);
}
