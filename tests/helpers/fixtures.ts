/**
 * The vendor facts the tests check against, kept in the repository as data: tests/fixtures/<vendor>/<topic>.json
 * (documented request and response examples, error tables, signature test vectors, SDK captures with their
 * fake keys). Every file, or every entry where a file mixes sections, names the document section it was
 * taken from in "_source" (tests/fixtures/README.md). Each call parses the file afresh, so a test may change
 * what it gets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type Vendor = 'huawei' | 'alibaba' | 'qiniu' | 'operator';

export const FIXTURES_DIR = path.resolve(__dirname, '../fixtures');

/** tests/fixtures/<vendor>/<topic>.json, parsed. */
export function fixture<T = any>(vendor: Vendor, topic: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, vendor, `${topic}.json`), 'utf8')) as T;
}
