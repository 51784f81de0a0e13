/**
 * The in-memory side of one library: its vectors and its ANN index, with the index's lifecycle —
 * load the snapshot and replay what changed after its watermark, or build in the background (from the
 * write that makes the library large enough, following its writes), keep it in step with writes (lazily,
 * before the next search), rebuild when removals pile up, the library grows by half or a search would
 * find too many writes to add, save on close.
 * SQLite stays the truth: the index only proposes candidates, which are checked against the records.
 */
import * as fs from 'fs';
import { AnnIndex, buildInWorker, commitFile, fileChecksumAsync, type BuildJob, type HnswParams } from './ann-index';
import type { LibraryRow } from './codec';
import type { SearchPath } from './library-search';
import type { LibraryVectors } from './library-vectors';

/** Rebuild an index once removals (tombstoned in the HNSW graph) exceed this share of its size. */
const REBUILD_REMOVED_RATIO = 0.3;

/** Rebuild an index once the library holds this many times the images it was built or loaded with. */
const GROWTH_BEFORE_REBUILD = 1.5;

/**
 * The most images changed since the index was brought up to date that a search adds to it first, on the
 * event loop (a few hundred microseconds each into the small index beside a mapped snapshot); past it,
 * the index is rebuilt in the background instead.
 */
const PENDING_APPLY_MAX = 1000;

/** What a runtime needs from its store. */
export interface RuntimeHost {
  readonly annThreshold: number;
  readonly hnsw: HnswParams;
  readonly indexBuild: 'background' | 'inline';
  /** The store-wide write version: every write with a version <= it is committed and in memory. */
  currentVersion(): number;
  /** False once the store closed or the library was deleted: a finishing build is then discarded. */
  isCurrent(runtime: LibraryRuntime): boolean;
  snapshotFile(libId: number): string;
  /** Records the snapshot's watermark and checksum (null = none) and prunes tombstones it covers. */
  recordSnapshot(libId: number, watermark: number | null, checksum: string | null): void;
  /** Keys of the library's images written or deleted after a watermark. */
  changedSince(libId: number, watermark: number): Set<number>;
}

interface PendingBuild {
  job: BuildJob;
  /** Every write with a version <= watermark is in the index being built (it follows the reads: startBuild). */
  readonly watermark: number;
  /** Keys of images whose rows changed after the build read them, to replay on the new index. */
  changes: Set<number>;
  finished: Promise<void>;
}

export interface AnnStatus {
  images: number;
  state: 'none' | 'building' | 'ready';
  source?: 'snapshot' | 'build';
  indexed: number;
  buildError?: string;
  lastSearchPath?: SearchPath;
}

export class LibraryRuntime {
  private ann?: AnnIndex;
  private annSource?: 'snapshot' | 'build';
  /** Keys changed since the index was last brought up to date (applied before the next search). */
  private readonly pending = new Set<number>();
  private removedSinceBuild = 0;
  /** Images in the library when its index was installed. */
  private builtFor = 0;
  private build?: PendingBuild;
  private buildFailed?: string;
  private snapshotTried = false;
  /** A snapshot being verified (its checksum read a chunk per loop turn) before it is loaded. */
  private opening?: Promise<void>;
  /** Write version the index reflects once `pending` is applied: decides whether close() saves it. */
  private annVersion = 0;
  lastPath?: SearchPath;

  constructor(
    private readonly host: RuntimeHost,
    readonly libId: number,
    readonly vectors: LibraryVectors,
    /** Watermark of the snapshot file on disk (libraries.ann_version). */
    private snapshotVersion: number | null,
  ) {}

  /**
   * Called after a committed write or delete of `key` (the vectors are already updated). A running build
   * learns of it from the slots it touched (startBuild).
   */
  noteChange(key: number): void {
    if (this.ann) this.pending.add(key);
  }

  /**
   * Called after a batch of writes: a library that has grown large enough starts its background build now
   * rather than at its next search, and one that has grown by half since its index was built starts the
   * next (the writes since live in a small mutable index beside the mapped one, added on the event loop).
   */
  afterWrites(lib: LibraryRow): void {
    this.build?.job.feed();
    if (this.host.indexBuild !== 'background' || this.build || this.opening) return;
    const size = this.vectors.size;
    if (size < this.host.annThreshold) return;
    if (!this.ann) this.annFor(lib);
    else if (size > GROWTH_BEFORE_REBUILD * this.builtFor) this.startBuild();
  }

  /**
   * The library's ANN index, up to date, when it is large enough to want one and one is ready.
   * Otherwise undefined (search is exact), after starting what makes one ready: loading the snapshot
   * (synchronous, fast) or a background build.
   */
  annFor(lib: LibraryRow): AnnIndex | undefined {
    const { annThreshold, indexBuild } = this.host;
    const size = this.vectors.size;
    if (size < annThreshold) {
      if (this.ann && size < annThreshold / 2) this.dropIndex();
      return undefined;
    }
    if (!this.ann && !this.snapshotTried) {
      this.snapshotTried = true;
      // In the background: searches are exact until the snapshot is verified and loaded.
      const recorded = lib.ann_version !== null && lib.dimension !== null && fs.existsSync(this.host.snapshotFile(this.libId));
      if (recorded && indexBuild === 'background') this.opening = this.openSnapshot(lib).finally(() => (this.opening = undefined));
      else if (recorded) this.loadSnapshot(lib);
    }
    if (this.opening) return undefined;
    if (this.ann) {
      if (this.pending.size > PENDING_APPLY_MAX && indexBuild === 'background') {
        // Too many writes to add to the index on the event loop (a bulk load between two searches): a build
        // in the background takes them in, and searches are exact until it is ready, as before the first.
        this.startBuild();
        if (this.build) return undefined;
      }
      this.applyPending();
      if (this.removedSinceBuild > REBUILD_REMOVED_RATIO * Math.max(1, this.ann.size)) {
        if (indexBuild === 'inline') return this.buildInline();
        this.startBuild();
      }
      return this.ann;
    }
    if (indexBuild === 'inline') return this.buildInline();
    this.startBuild();
    return undefined;
  }

  /**
   * Takes over a snapshot the store verified and mapped to answer while this copy loaded (cold-search.ts),
   * or is still verifying: adopted when ready, as openSnapshot would, without reading the file again.
   */
  adoptOpening(opened: Promise<{ ann: AnnIndex; watermark: number } | undefined>): void {
    this.snapshotTried = true;
    this.opening = opened
      .then((o) => {
        if (o && this.host.isCurrent(this) && !this.ann) this.adoptSnapshot(o.ann, o.watermark);
      })
      .finally(() => (this.opening = undefined));
  }

  /** annFor, then waits for a background build to finish (tests, bench, warm-up). */
  async ensureIndex(lib: () => LibraryRow): Promise<AnnStatus> {
    this.annFor(lib());
    while (this.build || this.opening) {
      await (this.opening ?? this.build!.finished);
      this.annFor(lib());
    }
    return this.status();
  }

  status(): AnnStatus {
    const status: AnnStatus = {
      images: this.vectors.size,
      state: this.ann ? 'ready' : this.build || this.opening ? 'building' : 'none',
      indexed: this.ann?.size ?? 0,
    };
    if (this.annSource) status.source = this.annSource;
    if (this.buildFailed !== undefined) status.buildError = this.buildFailed;
    if (this.lastPath) status.lastSearchPath = this.lastPath;
    return status;
  }

  async cancelBuild(): Promise<void> {
    await this.build?.job.cancel();
  }

  /** Saves the index as the snapshot at the current version if it changed since the last one. */
  saveIfChanged(): void {
    if (!this.ann) return;
    const changed = this.pending.size > 0 || this.snapshotVersion === null || this.annVersion > this.snapshotVersion;
    if (!changed) return;
    this.applyPending();
    const watermark = this.host.currentVersion();
    const v = this.vectors;
    const checksum = this.ann.save(this.host.snapshotFile(this.libId), (rowKey) => {
      const row = v.rowOfRowKey(rowKey);
      return row === undefined ? undefined : v.row(row).slice();
    });
    this.host.recordSnapshot(this.libId, watermark, checksum);
    this.snapshotVersion = watermark;
  }

  private buildInline(): AnnIndex {
    const v = this.vectors;
    const ann = AnnIndex.create(v.dim, this.host.hnsw, v.rows);
    const block = new Float32Array(v.rows * v.dim);
    v.copyRows(0, v.size, block);
    ann.add(v.rowKeys(), block);
    this.install(ann, 'build');
    return ann;
  }

  private install(ann: AnnIndex, source: 'snapshot' | 'build'): void {
    this.ann = ann;
    this.annSource = source;
    this.builtFor = this.vectors.size;
    this.pending.clear();
    this.annVersion = this.host.currentVersion();
  }

  /** Loads the library's snapshot file and replays the writes committed after its watermark. */
  private loadSnapshot(lib: LibraryRow): void {
    const watermark = lib.ann_version;
    if (watermark === null || lib.dimension === null) return;
    const ann = AnnIndex.load(this.host.snapshotFile(this.libId), lib.dimension, this.host.hnsw, lib.ann_checksum ?? '', this.vectors.rows);
    if (ann) this.adoptSnapshot(ann, watermark);
  }

  /** loadSnapshot with the checksum read asynchronously (usearch's own load of the verified file is not). */
  private async openSnapshot(lib: LibraryRow): Promise<void> {
    const watermark = lib.ann_version!;
    const file = this.host.snapshotFile(this.libId);
    const checksum = await fileChecksumAsync(file).catch(() => undefined);
    if (checksum !== lib.ann_checksum || !this.host.isCurrent(this) || this.ann) return;
    const ann = AnnIndex.openVerified(file, lib.dimension!, this.host.hnsw, this.vectors.rows);
    if (ann) this.adoptSnapshot(ann, watermark);
  }

  /** Brings a loaded snapshot up to date with the writes after its watermark and installs it. */
  private adoptSnapshot(ann: AnnIndex, watermark: number): void {
    const changed = this.host.changedSince(this.libId, watermark);
    if (changed.size > this.vectors.size / 2) return; // cheaper to rebuild
    this.replay(ann, changed);
    if (ann.size !== this.vectors.rows) return; // inconsistent snapshot: never trust it, rebuild
    this.install(ann, 'snapshot');
  }

  /** Brings `ann` in line with the in-memory records for the given image keys (remove stale rows, add live). */
  private replay(ann: AnnIndex, keys: Iterable<number>): void {
    const v = this.vectors;
    const add: number[] = [];
    const rows: number[] = [];
    for (const key of keys) {
      const rowKeys = Array.from({ length: v.perImage }, (_, view) => v.rowKey(key, view));
      this.removedSinceBuild += ann.remove(rowKeys);
      const slot = v.slotOfKey(key);
      if (slot === undefined) continue;
      add.push(...rowKeys);
      for (let view = 0; view < v.perImage; view++) rows.push(slot * v.perImage + view);
    }
    if (add.length === 0) return;
    const block = new Float32Array(add.length * v.dim);
    rows.forEach((row, i) => block.set(v.row(row), i * v.dim));
    ann.add(add, block);
  }

  private applyPending(): void {
    if (!this.ann || this.pending.size === 0) return;
    this.replay(this.ann, this.pending);
    this.pending.clear();
    this.annVersion = this.host.currentVersion();
  }

  private dropIndex(): void {
    this.ann = undefined;
    this.annSource = undefined;
    this.pending.clear();
    this.removedSinceBuild = 0;
    if (this.snapshotVersion !== null) {
      this.host.recordSnapshot(this.libId, null, null);
      fs.rmSync(this.host.snapshotFile(this.libId), { force: true });
      this.snapshotVersion = null;
    }
  }

  /**
   * Starts a background build of the index unless one is running or has failed. The worker reads the
   * library's own matrix a chunk of whole images at a time (no copy of it is made), in slot order, and keeps
   * reading while the library grows, until it has caught up with it: a library filled by a bulk load is
   * indexed while it is written, not after. Each chunk is read with its keys at once, so what the build holds
   * is exactly what the slots held then; a slot already read that is written, moved out of or moved into
   * afterwards puts its image among the changes replayed on the finished index. The watermark (writes up to
   * it are in the snapshot file) follows the reads until the first such change, so a snapshot is never
   * recorded as holding a write it missed.
   */
  private startBuild(): void {
    if (this.build || this.buildFailed !== undefined || !this.host.isCurrent(this)) return;
    const v = this.vectors;
    const { dim, perImage } = v;
    const changes = new Set<number>();
    let read = 0; // slots [0, read) have been handed to the worker (any slot there now counts as read)
    let caughtUp = false; // the worker has had every slot: from now on every change is replayed
    let watermark = this.host.currentVersion();
    /** The watermark follows the reads while no row already read has changed. */
    const follow = () => {
      if (changes.size === 0) watermark = this.host.currentVersion();
    };
    v.watchSlots((slot) => {
      if (slot < read || caughtUp) changes.add(v.keys[slot]);
    });
    const tmp = `${this.host.snapshotFile(this.libId)}.build-${process.pid}-${watermark}`;
    const job = buildInWorker(dim, this.host.hnsw, {
      next: (keys, vectors) => {
        const from = Math.min(read, v.size); // deletions may have shrunk the library below what was read
        const to = Math.min(v.size, from + Math.max(1, Math.floor(keys.length / perImage)));
        read = to;
        follow();
        for (let slot = from, i = 0; slot < to; slot++) for (let view = 0; view < perImage; view++) keys[i++] = BigInt(v.rowKey(v.keys[slot], view));
        v.copyRows(from, to, vectors);
        return (to - from) * perImage;
      },
      ended: () => {
        caughtUp = true;
        follow();
      },
    }, tmp);
    const build: PendingBuild = {
      job,
      get watermark() {
        return watermark;
      },
      changes,
      finished: job.done.then(
        ({ file, checksum }) => {
          v.watchSlots(undefined);
          try {
            this.finishBuild(build, file, checksum);
          } catch (e) {
            fs.rmSync(file, { force: true });
            this.buildFailed = String(e);
          }
        },
        (e: unknown) => {
          v.watchSlots(undefined);
          fs.rmSync(tmp, { force: true });
          if (this.build === build) {
            this.build = undefined;
            if (this.host.isCurrent(this)) this.buildFailed = String(e);
          }
        },
      ),
    };
    this.build = build;
  }

  /** Swaps a finished build in: persist it as the snapshot at its watermark, replay what changed since. */
  private finishBuild(build: PendingBuild, file: string, checksum: string): void {
    if (this.build === build) this.build = undefined;
    if (!this.host.isCurrent(this)) {
      fs.rmSync(file, { force: true });
      return;
    }
    // The file holds exactly the writes up to the watermark: it becomes the snapshot at that watermark,
    // memory-mapped (the worker computed its checksum as it wrote it; hashing it again or copying it in
    // would hold the event loop for seconds at a million vectors).
    const snapshot = this.host.snapshotFile(this.libId);
    commitFile(file, snapshot);
    const ann = AnnIndex.openVerified(snapshot, this.vectors.dim, this.host.hnsw, this.vectors.rows);
    if (!ann) {
      fs.rmSync(snapshot, { force: true });
      this.buildFailed = 'built index could not be loaded';
      return;
    }
    this.host.recordSnapshot(this.libId, build.watermark, checksum);
    this.snapshotVersion = build.watermark;
    this.removedSinceBuild = 0;
    this.replay(ann, build.changes);
    this.install(ann, 'build');
  }
}
