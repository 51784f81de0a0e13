/**
 * What an import source reads into (manifest entries and where their files are), and the JSON-lines reading
 * that every vendor's import reader (adapters/<vendor>/import-reader.ts) shares.
 */
import { readFileSync } from 'node:fs';
import type { LibraryDefinition, ManifestEntry } from './manifest';
import { ManifestError } from './manifest';

export interface ImportSource {
  entries: ManifestEntry[];
  /** Relative `image` paths resolve against this folder. */
  baseDir: string;
  /** From a library folder's library.json. */
  library?: LibraryDefinition;
  /** What the source is, for messages. */
  kind: string;
}

/** The JSON value of each non-empty line, with where it is for messages. */
export function jsonLines(file: string): Array<{ value: unknown; where: string }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, where }) => {
      try {
        return { value: JSON.parse(line) as unknown, where };
      } catch {
        throw new ManifestError(`${where}: not JSON`);
      }
    });
}
