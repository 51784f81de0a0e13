/**
 * The embedded store's SQLite schema and its migrations. SQLite is the record of truth: everything the
 * in-memory caches and the ANN index hold can be rebuilt from these tables.
 */
import type Database from 'better-sqlite3';

/**
 * Migrations in order; `schema_version` in `meta` records how many have been applied. Append, never edit:
 * a data directory written by an older build is upgraded by running the ones it lacks.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE libraries (
    -- AUTOINCREMENT: a deleted library's id is never reused, so ANN snapshot files named by it never
    -- get confused with a later library of the same name.
    lib_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL,
    name        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    model       TEXT NOT NULL,
    description TEXT,
    tag_keys    TEXT,             -- JSON array or NULL
    capacity    INTEGER,
    extra       TEXT,             -- JSON object or NULL
    created_at  INTEGER NOT NULL,
    dimension   INTEGER,          -- fixed by the first vector written
    ann_version INTEGER,          -- watermark of the persisted ANN snapshot file; NULL = no snapshot
    ann_checksum TEXT,            -- sha256 of that file: usearch must never be handed a damaged one
    UNIQUE (tenant, name)
  );

  CREATE TABLE images (
    -- The stable integer key of an image: list order, cursor position and the usearch key.
    -- AUTOINCREMENT so a deleted image's key is never reused (a stale index entry can never resurrect).
    image_key  INTEGER PRIMARY KEY AUTOINCREMENT,
    lib_id     INTEGER NOT NULL,
    id         TEXT NOT NULL,
    item_id    TEXT,
    uri        TEXT,
    tags       TEXT NOT NULL,     -- JSON object
    extra      TEXT,              -- JSON object or NULL
    has_image  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,  -- store-wide write counter at the last vector write (ANN watermark)
    vector     BLOB NOT NULL,     -- little-endian float32 x dimension (x views: see the views migration); empty once in vector_files
    UNIQUE (lib_id, id)
  );
  CREATE INDEX images_by_item ON images (lib_id, item_id);
  CREATE INDEX images_by_version ON images (lib_id, version);

  -- Kept apart so that listing and search never read image bytes.
  CREATE TABLE image_bytes (
    image_key INTEGER PRIMARY KEY,
    bytes     BLOB NOT NULL
  );

  -- Deletions since the library's ANN snapshot, so a snapshot can be brought up to date on open.
  CREATE TABLE image_tombstones (
    lib_id    INTEGER NOT NULL,
    image_key INTEGER NOT NULL,
    version   INTEGER NOT NULL
  );
  CREATE INDEX tombstones_by_version ON image_tombstones (lib_id, version);

  CREATE TABLE tasks (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    state      TEXT,              -- JSON
    PRIMARY KEY (tenant, id)
  );
  CREATE INDEX tasks_by_status ON tasks (status);
  `,
  // Stored originals move to files (image-files.ts); image_bytes keeps what older builds wrote.
  `
  CREATE TABLE image_files (
    image_key INTEGER PRIMARY KEY,
    file      TEXT NOT NULL       -- name under <store dir>/images/
  );
  CREATE INDEX image_files_by_file ON image_files (file);
  `,
  // A library's rows in key order without sorting them: it is loaded in chunks (embedded-store.ts).
  `
  CREATE INDEX images_by_lib ON images (lib_id, image_key);
  `,
  // Libraries that index each image by several views (core/records.ts): JSON array of view names, or
  // NULL for the whole picture only. An image's vectors then sit one after another in images.vector.
  `
  ALTER TABLE libraries ADD COLUMN views TEXT;
  `,
  // Tasks filed in numbered series, the sequences that number them, and one-time claims (task-store.ts).
  `
  ALTER TABLE tasks ADD COLUMN scope TEXT;
  ALTER TABLE tasks ADD COLUMN seq INTEGER;
  CREATE INDEX tasks_by_scope ON tasks (tenant, scope, seq);
  CREATE TABLE sequences (
    tenant TEXT NOT NULL,
    scope  TEXT NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (tenant, scope)
  );
  CREATE TABLE claims (
    scope      TEXT NOT NULL,
    token      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, token)
  );
  CREATE INDEX claims_by_expiry ON claims (expires_at);
  `,
  // Rows without an item id (all of a general_search library's) kept out of the item index: one B-tree
  // fewer per insert. Lookups by item id (= or IN) imply item_id IS NOT NULL, so they still use it.
  `
  DROP INDEX images_by_item;
  CREATE INDEX images_by_item ON images (lib_id, item_id) WHERE item_id IS NOT NULL;
  `,
  // Vectors move to pack files (vector-files.ts): a row named here has an empty images.vector; rows
  // older builds wrote keep theirs there.
  `
  CREATE TABLE vector_files (
    image_key INTEGER PRIMARY KEY,
    file      TEXT NOT NULL       -- range under <store dir>/vectors/ (pack-files.ts)
  );
  CREATE INDEX vector_files_by_file ON vector_files (file);
  `,
];

export const PAGE_SIZE = 8192;

/** What an acknowledged write survives: 'normal' a crash or kill -9 of the process, 'full' also power loss. */
export type Synchronous = 'normal' | 'full';

/** Connection settings. WAL + synchronous=NORMAL: a committed transaction survives a crash or kill -9
 * of the process (the WAL is in the OS page cache); synchronous=FULL also survives power loss. */
export function configureConnection(db: Database.Database, sync: Synchronous): void {
  // 8 KB pages for a new database (an existing one keeps its own): a 512-d row is ~2.1 KB, so 4 KB pages
  // held one row each, half empty; 8 KB pages hold three. Must precede WAL mode, which fixes the size.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = OFF');
  db.pragma('busy_timeout = 5000');
  // A 16 MB page cache (64 MB was measured no faster for bulk inserts or a library's load, and held
  // 50 MB more in the process). No memory-mapped reads: they left up to 256 MB of SQLite's pages resident
  // in the process after a library's one big read (its vectors then sat in RSS twice), for a load only
  // ~8 % faster than read() through the OS page cache.
  db.pragma('cache_size = -16384');
  db.pragma('mmap_size = 0');
}

/** Applies the migrations the database lacks, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const hasMeta = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .get();
  let applied = 0;
  if (hasMeta) {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    applied = row ? Number(row.value) : 0;
  }
  if (applied > MIGRATIONS.length) {
    throw new Error(
      `data directory has schema version ${applied}, newer than this build knows (${MIGRATIONS.length})`,
    );
  }
  for (let i = applied; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]);
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ).run(String(i + 1));
    })();
  }
}
