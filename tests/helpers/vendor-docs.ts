/**
 * The vendor documents and specs live once, in ../shared (beside this repository in every checkout and in
 * CI). Tests read documented examples from there instead of copying them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const SHARED_DIR = path.resolve(__dirname, '../../../shared');

export function vendorDoc(name: string): string {
  const file = path.join(SHARED_DIR, 'vendor-docs', name);
  if (!existsSync(file)) throw new Error(`vendor document ${file} is missing: tests expect ../shared beside the repository`);
  return readFileSync(file, 'utf8');
}

export function spec(name: string): string {
  return readFileSync(path.join(SHARED_DIR, 'specs', name), 'utf8');
}
