/** Pack files (core/store/embedded/pack-files.ts), on their own: the stored originals and the vectors each have a folder of them. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PackFiles, packRef, packRefBounds, parsePackRef, type PackRange } from '../../core/store/embedded/pack-files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-packs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bytesOf = (i: number, n: number) => Buffer.alloc(n, `original ${i};`);

it('names a range so that it parses back, sorts inside its pack bounds, and never as a legacy file name', () => {
  const range = { pack: 12, offset: 4096, length: 135_000 };
  expect(parsePackRef(packRef(range))).toEqual(range);
  expect(parsePackRef('9d1e0000000000000000abcd')).toBeUndefined();
  const [low, high] = packRefBounds(1);
  const inside = (name: string) => name >= low && name < high;
  expect(inside(packRef({ pack: 1, offset: 0, length: 5 }))).toBe(true);
  expect(inside(packRef({ pack: 1, offset: 99_999_999, length: 5 }))).toBe(true);
  expect(inside(packRef({ pack: 10, offset: 0, length: 5 }))).toBe(false);
  expect(inside(packRef({ pack: 12, offset: 0, length: 5 }))).toBe(false);
  expect(inside(packRef({ pack: 2, offset: 0, length: 5 }))).toBe(false);
});

it.each([false, true])('writes concurrent originals to disjoint ranges that read back whole (durable: %s)', async (durable) => {
  const packs = new PackFiles(dir, durable);
  const originals = Array.from({ length: 24 }, (_, i) => bytesOf(i, 1000 + 37 * i));
  const names = await Promise.all(originals.map((b) => packs.write(b)));
  const ranges = names.map((n) => parsePackRef(n)!);
  expect(new Set(ranges.map((r) => r.pack)).size).toBe(1);
  const sorted = [...ranges].sort((a, b) => a.offset - b.offset);
  sorted.forEach((r, i) => i > 0 && expect(r.offset).toBeGreaterThanOrEqual(sorted[i - 1].offset + sorted[i - 1].length));
  for (let i = 0; i < originals.length; i++) expect((await packs.read(ranges[i]))?.equals(originals[i])).toBe(true);
  packs.close();
  await expect(packs.write(bytesOf(0, 10))).rejects.toThrow('closed');
});

it('starts a new pack past its size, and after a restart: never appends to a pack of an earlier run', async () => {
  let packs = new PackFiles(dir, false, 1000);
  const first = [];
  for (let i = 0; i < 5; i++) first.push(parsePackRef(await packs.write(bytesOf(i, 400)))!);
  // 400 + 400 + 400 reach the size: the third write is the pack's last.
  expect(first.map((r) => r.pack)).toEqual([1, 1, 1, 2, 2]);
  packs.close();
  const tail = readFileSync(path.join(dir, '2.pack')).length;
  writeFileSync(path.join(dir, '2.pack'), Buffer.concat([readFileSync(path.join(dir, '2.pack')), Buffer.from('a crash left this')]));
  packs = new PackFiles(dir, false, 1000);
  const next = parsePackRef(await packs.write(bytesOf(9, 10)))!;
  expect(next).toEqual({ pack: 3, offset: 0, length: 10 });
  expect(readFileSync(path.join(dir, '2.pack')).length).toBe(tail + 'a crash left this'.length);
  expect(packs.earlierPacks()).toEqual([1, 2]);
  packs.close();
});

it('keeps a pack from reclaim while it is current or a write to it has not settled', async () => {
  const packs = new PackFiles(dir, false, 100);
  const a = await packs.write(bytesOf(1, 100)); // fills pack 1
  expect(packs.reclaimable(1)).toBe(false); // current until the next write starts pack 2
  const b = await packs.write(bytesOf(2, 10));
  expect(parsePackRef(b)!.pack).toBe(2);
  expect(packs.reclaimable(1)).toBe(false); // a's transaction has not settled
  packs.settle([a, undefined, 'ab00000000000000000000ff']);
  expect(packs.reclaimable(1)).toBe(true);
  expect(packs.reclaimable(2)).toBe(false);
  packs.remove(1);
  expect(await packs.read(parsePackRef(a)!)).toBeUndefined();
  expect(readdirSync(dir)).toEqual(['2.pack']);
  packs.close();
});

it('reads ranges on the spot from any number of packs, and refuses a range of a removed pack', async () => {
  const packs = new PackFiles(dir, false, 10); // a pack per write
  const written = Array.from({ length: 100 }, (_, i) => bytesOf(i, 12 + (i % 5)));
  const ranges: PackRange[] = [];
  for (const bytes of written) ranges.push(parsePackRef(await packs.write(bytes))!);
  expect(new Set(ranges.map((r) => r.pack)).size).toBe(100); // more packs than readSync keeps open at once
  for (const order of [[...ranges.keys()], [...ranges.keys()].reverse(), [...ranges.keys()].map((i) => (i * 37) % 100)]) {
    for (const i of order) expect({ i, same: packs.readSync(ranges[i]).equals(written[i]) }).toEqual({ i, same: true });
  }
  packs.remove(ranges[3].pack);
  expect(() => packs.readSync(ranges[3])).toThrow();
  expect(() => packs.readSync({ ...ranges[4], length: ranges[4].length + 1 })).toThrow(/ends before/);
  expect(packs.readSync(ranges[4]).equals(written[4])).toBe(true);
  packs.close();
});
