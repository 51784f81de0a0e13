/**
 * The gateway's own manifest: what `isg export` writes and `isg import` reads back. A library folder holds
 *   library.json     the library's definition (name, mode, model, description, tag keys, capacity, extra)
 *   manifest.jsonl   one record per line: {"id", "itemId"?, "uri"?, "tags"?, "extra"?, "image"?, "keepImage"?}
 *   images/          the original bytes of records whose image was stored, named by "image"
 * `image` is where the bytes come from: a file relative to the manifest, or an http(s) URL; without it an
 * http(s) `uri` is downloaded. `op: "delete"` lines (vendor increment files) delete `id`, or every image of
 * `itemId`. CSV manifests have a header row naming the same fields; `tags` and `extra` cells hold JSON,
 * and `tag.<key>` columns set one tag each.
 */
import type { Tags } from '../../core/records';

export const MANIFEST_FILE = 'manifest.jsonl';
export const LIBRARY_FILE = 'library.json';
export const IMAGES_DIR = 'images';

export interface ManifestEntry {
  id: string;
  itemId?: string;
  uri?: string;
  tags?: Tags;
  extra?: Record<string, unknown>;
  /** A file relative to the manifest, or an http(s) URL. */
  image?: string;
  /** The bytes inline (vendor formats that carry them). */
  imageBase64?: string;
  /** Keep the original bytes in the store (so a later export carries them). */
  keepImage?: boolean;
  op?: 'add' | 'delete';
}

export interface LibraryDefinition {
  name: string;
  mode: string;
  model?: string;
  description?: string;
  tagKeys?: string[];
  capacity?: number;
  extra?: Record<string, unknown>;
}

export class ManifestError extends Error {}

/** One JSON line → an entry, or the reason it is not one. */
export function entryOf(value: unknown, where: string): ManifestEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ManifestError(`${where}: not a JSON object`);
  const v = value as Record<string, unknown>;
  const text = (k: string) => {
    if (v[k] === undefined || v[k] === null) return undefined;
    if (typeof v[k] !== 'string') throw new ManifestError(`${where}: ${k} must be a string`);
    return v[k] as string;
  };
  const object = (k: string) => {
    if (v[k] === undefined || v[k] === null) return undefined;
    if (typeof v[k] !== 'object' || Array.isArray(v[k])) throw new ManifestError(`${where}: ${k} must be an object`);
    return v[k] as Record<string, unknown>;
  };
  const op = text('op');
  if (op !== undefined && op !== 'add' && op !== 'delete') throw new ManifestError(`${where}: op must be add or delete`);
  const entry: ManifestEntry = {
    id: text('id') ?? '',
    itemId: text('itemId'),
    uri: text('uri'),
    tags: object('tags') as Tags | undefined,
    extra: object('extra'),
    image: text('image'),
    imageBase64: text('imageBase64'),
    keepImage: v.keepImage === true ? true : undefined,
    op,
  };
  if (entry.id === '' && !(op === 'delete' && entry.itemId)) throw new ManifestError(`${where}: id is required`);
  return entry;
}

export function parseJsonLines(text: string, name: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ManifestError(`${name}:${i + 1}: not JSON`);
    }
    entries.push(entryOf(value, `${name}:${i + 1}`));
  });
  return entries;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

export function parseCsv(text: string, name: string): ManifestEntry[] {
  const [header, ...rows] = parseCsvRows(text.replace(/^\uFEFF/, ''));
  if (!header) return [];
  return rows.map((row, r) => {
    const where = `${name}:${r + 2}`;
    const value: Record<string, unknown> = {};
    const tags: Tags = {};
    header.forEach((column, c) => {
      const cell = row[c] ?? '';
      if (cell === '') return;
      if (column.startsWith('tag.')) tags[column.slice(4)] = cell;
      else if (column === 'tags' || column === 'extra') {
        try {
          value[column] = JSON.parse(cell);
        } catch {
          throw new ManifestError(`${where}: ${column} must be JSON`);
        }
      } else if (column === 'keepImage') value.keepImage = cell === 'true';
      else value[column] = cell;
    });
    if (Object.keys(tags).length > 0) value.tags = { ...(value.tags as Tags | undefined), ...tags };
    return entryOf(value, where);
  });
}

/** One entry as a manifest line (undefined fields left out). */
export function entryLine(entry: ManifestEntry): string {
  return JSON.stringify(entry);
}
