/**
 * The embedded store's schema: the item index holds only the rows that have an item id, and the store's
 * lookups by item id still find every such row (listImages' through the index).
 */
import Database from 'better-sqlite3';
import { migrate } from '../../core/store/embedded/schema';

function migrated(): Database.Database {
  const db = new Database(':memory:');
  migrate(db);
  db.prepare("INSERT INTO libraries (tenant, name, mode, model, created_at) VALUES ('t', 'l', 'item_search', 'm', 0)").run();
  const insert = db.prepare('INSERT INTO images (lib_id, id, item_id, tags, has_image, created_at, updated_at, version, vector) VALUES (1, ?, ?, ?, 0, 0, 0, 0, ?)');
  for (let i = 0; i < 50; i++) insert.run(`img${i}`, i % 5 === 0 ? `item${i % 3}` : null, '{}', Buffer.alloc(8));
  return db;
}

const plan = (db: Database.Database, sql: string, ...params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');

const ONE_ITEM = 'SELECT image_key FROM images WHERE lib_id = ? AND image_key > ? AND item_id = ? ORDER BY image_key';

test('a page of one item (listImages) is searched in the item index', () => {
  expect(plan(migrated(), ONE_ITEM, 1, 0, 'item0')).toMatch(/USING (COVERING )?INDEX images_by_item/);
});

test.each([
  ['one item (listImages)', ONE_ITEM, [1, 0, 'item0']],
  ['several items (deleteImages)', 'SELECT image_key FROM images WHERE lib_id = ? AND item_id IN (SELECT value FROM json_each(?)) ORDER BY image_key', [1, '["item0","item1"]']],
])('a lookup by %s finds what a scan of the table finds', (_name, sql, params) => {
  const db = migrated();
  const keys = db.prepare(sql as string).pluck().all(...(params as unknown[]));
  const expected = db.prepare(`SELECT image_key FROM images NOT INDEXED WHERE ${(sql as string).split('WHERE ')[1]}`).pluck().all(...(params as unknown[]));
  expect(keys).toEqual(expected);
  expect(keys.length).toBeGreaterThan(0);
});

test('rows without an item id are not in the item index', () => {
  const db = migrated();
  const indexed = db.prepare('SELECT count(*) FROM images INDEXED BY images_by_item WHERE lib_id = 1 AND item_id IS NOT NULL').pluck().get();
  expect(indexed).toBe(10);
  // The index's own entries: sqlite_stat1 after ANALYZE counts them.
  db.exec('ANALYZE');
  const stat = db.prepare("SELECT stat FROM sqlite_stat1 WHERE idx = 'images_by_item'").pluck().get() as string;
  expect(Number(stat.split(' ')[0])).toBe(10);
});
