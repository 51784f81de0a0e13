/**
 * Import sources → manifest entries:
 *   a library folder (manifest.jsonl [+ library.json, images/]) or any *.jsonl / *.csv manifest;
 *   a folder of images (id = the path inside the folder);
 *   with a vendor named that has one, that vendor's own export format, read by its adapter's import
 *   reader (adapters/<vendor>/import-reader.ts), keys mapped the way the adapter maps them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { VENDORS } from '../vendors';
import type { VendorAdapter } from '../vendor';
import type { ImportSource } from './import-source';
import { LIBRARY_FILE, MANIFEST_FILE, ManifestError, parseCsv, parseJsonLines, type LibraryDefinition, type ManifestEntry } from './manifest';

export type { ImportSource } from './import-source';

/** The vendors that have an import format, by name. */
export function importVendors(vendors: readonly VendorAdapter[] = VENDORS): VendorAdapter[] {
  return vendors.filter((v) => v.importReader !== undefined);
}


const IMAGE_EXTENSIONS = /\.(jpe?g|png|bmp|gif|webp|tiff?)$/i;

/** `vendor`: a vendor's name; a vendor with an import format (importVendors) reads the source its way. */
export function readSource(source: string, vendor?: string): ImportSource {
  if (!existsSync(source)) throw new ManifestError(`${source} does not exist`);
  const reader = vendor === undefined ? undefined : importVendors().find((v) => v.name === vendor)?.importReader;
  if (reader) return reader.read(source);
  const isDir = statSync(source).isDirectory();
  if (isDir) {
    const manifest = path.join(source, MANIFEST_FILE);
    if (existsSync(manifest)) {
      const libraryFile = path.join(source, LIBRARY_FILE);
      const library = existsSync(libraryFile) ? (JSON.parse(readFileSync(libraryFile, 'utf8')) as LibraryDefinition) : undefined;
      return { entries: parseJsonLines(readFileSync(manifest, 'utf8'), manifest), baseDir: source, library, kind: 'library folder' };
    }
    return { entries: imageFolder(source), baseDir: source, kind: 'folder of images' };
  }
  const text = readFileSync(source, 'utf8');
  const entries = /\.csv$/i.test(source) ? parseCsv(text, source) : parseJsonLines(text, source);
  return { entries, baseDir: path.dirname(source), kind: /\.csv$/i.test(source) ? 'CSV manifest' : 'JSON-lines manifest' };
}

/** Every image file below `root`, in a stable order. */
function imageFolder(root: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (IMAGE_EXTENSIONS.test(name)) {
        const rel = path.relative(root, full).split(path.sep).join('/');
        out.push({ id: rel, image: rel });
      }
    }
  };
  walk(root);
  return out;
}


