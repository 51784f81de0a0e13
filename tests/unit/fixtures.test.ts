/**
 * The vendor fixtures (tests/fixtures/<vendor>/*.json) keep their promise: each file names where its facts
 * come from in "_source" (and so does each entry of a file that mixes sections), and the loader reads them.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fixture, FIXTURES_DIR, type Vendor } from '../helpers/fixtures';

const VENDORS: Vendor[] = ['huawei', 'alibaba', 'qiniu', 'operator'];
const files = VENDORS.flatMap((vendor) =>
  readdirSync(path.join(FIXTURES_DIR, vendor))
    .filter((name) => name.endsWith('.json'))
    .map((name) => [vendor, name.replace(/\.json$/, '')] as [Vendor, string]),
);

test('every vendor folder holds fixtures', () => {
  expect(new Set(files.map(([vendor]) => vendor))).toEqual(new Set(VENDORS));
});

test.each(files)('%s/%s.json says where it comes from', (vendor, topic) => {
  const data = fixture(vendor, topic);
  expect(typeof data._source).toBe('string');
  expect(data._source.length).toBeGreaterThan(10);
  // A file that mixes sections (some entry has a _source of its own) names the source of every entry.
  const entries = Object.entries(data as Record<string, any>).filter(([, value]) => value !== null && typeof value === 'object' && !Array.isArray(value));
  if (entries.some(([, value]) => '_source' in value)) {
    for (const [key, value] of entries) expect([key, typeof value._source]).toEqual([key, 'string']);
  }
});
