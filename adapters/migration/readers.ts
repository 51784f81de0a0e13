/**
 * Import sources → manifest entries, each vendor's keys mapped the way its adapter maps them (the vendor
 * keys modules are the one place for that):
 *   a library folder (manifest.jsonl [+ library.json, images/]) or any *.jsonl / *.csv manifest;
 *   a folder of images (id = the path inside the folder);
 *   --vendor alibaba: DumpMeta / increment.meta JSON lines {"operator","item_id","pic_list",...}; pictures
 *     are files beside the meta file (as IncreaseInstance reads them) or http(s) URLs;
 *   --vendor qiniu: group listings, the answers of GET /v1/image/group/<group>?marker=&limit= (one JSON
 *     page per line, or a JSON array of pages): id, label, desc, and uri when the listing has it;
 *   --vendor operator: image/tasks/create import lines {"image_id","image_uri","image_base64","tags","save_image"}.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ATTRIBUTES, imageId as alibabaImageId } from '../alibaba/keys';
import { INCREMENT_META_FILE } from '../alibaba/limits';
import { imageKey as operatorImageKey } from '../operator/keys';
import { qiniuExtra } from '../qiniu/keys';
import { LIBRARY_FILE, MANIFEST_FILE, ManifestError, entryOf, parseCsv, parseJsonLines, type LibraryDefinition, type ManifestEntry } from './manifest';
import type { VendorName } from './vendors';

export interface ImportSource {
  entries: ManifestEntry[];
  /** Relative `image` paths resolve against this folder. */
  baseDir: string;
  /** From a library folder's library.json. */
  library?: LibraryDefinition;
  /** What the source is, for messages. */
  kind: string;
}

const IMAGE_EXTENSIONS = /\.(jpe?g|png|bmp|gif|webp|tiff?)$/i;

export function readSource(source: string, vendor?: VendorName): ImportSource {
  if (!existsSync(source)) throw new ManifestError(`${source} does not exist`);
  const isDir = statSync(source).isDirectory();
  if (vendor === 'alibaba') return alibabaSource(isDir ? path.join(source, INCREMENT_META_FILE) : source);
  if (vendor === 'qiniu') return qiniuSource(source);
  if (vendor === 'operator') return operatorSource(source);
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

function jsonLines(file: string): Array<{ value: unknown; where: string }> {
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

// ---- Alibaba ---------------------------------------------------------------------------------------

function alibabaSource(file: string): ImportSource {
  const entries: ManifestEntry[] = [];
  for (const { value, where } of jsonLines(file)) {
    const line = value as Record<string, unknown>;
    if (typeof line !== 'object' || line === null || typeof line.item_id !== 'string' || line.item_id === '') throw new ManifestError(`${where}: item_id is required`);
    const productId = line.item_id;
    const pics = line.pic_list;
    if (pics !== undefined && (!Array.isArray(pics) || pics.some((p) => typeof p !== 'string' || p === ''))) throw new ManifestError(`${where}: pic_list must be a list of names`);
    const operator = typeof line.operator === 'string' ? line.operator.toUpperCase() : 'ADD';
    if (operator === 'DELETE') {
      if (pics === undefined) entries.push({ id: '', itemId: productId, op: 'delete' });
      else for (const pic of pics as string[]) entries.push({ id: alibabaImageId(productId, pic), op: 'delete' });
      continue;
    }
    if (operator !== 'ADD') throw new ManifestError(`${where}: operator must be ADD or DELETE`);
    if (!Array.isArray(pics) || pics.length === 0) throw new ManifestError(`${where}: pic_list is required`);
    const tags: Record<string, string | number> = {};
    for (const tag of Object.values(ATTRIBUTES)) {
      const v = line[tag];
      if (typeof v === 'string' || typeof v === 'number') tags[tag] = v;
    }
    const categoryId = Number.isInteger(line.cat_id) ? (line.cat_id as number) : typeof line.cat_id === 'string' && /^\d+$/.test(line.cat_id) ? Number(line.cat_id) : undefined;
    const alibaba: Record<string, unknown> = {};
    if (categoryId !== undefined) alibaba.CategoryId = categoryId;
    if (typeof line.cust_content === 'string') alibaba.CustomContent = line.cust_content;
    for (const pic of pics as string[]) {
      entries.push({ id: alibabaImageId(productId, pic), itemId: productId, tags, extra: { alibaba }, image: pic });
    }
  }
  return { entries, baseDir: path.dirname(file), kind: 'Alibaba meta file' };
}

// ---- Qiniu -----------------------------------------------------------------------------------------

function qiniuSource(file: string): ImportSource {
  const text = readFileSync(file, 'utf8').trim();
  let pages: unknown[];
  if (text.startsWith('[')) pages = JSON.parse(text) as unknown[];
  else pages = jsonLines(file).map((l) => l.value);
  const entries: ManifestEntry[] = [];
  pages.forEach((page, p) => {
    const result = (page as { result?: unknown })?.result;
    if (!Array.isArray(result)) throw new ManifestError(`${file}: page ${p + 1} has no result list`);
    for (const item of result as Array<{ id?: unknown; value?: Record<string, unknown> }>) {
      if (typeof item?.id !== 'string' || item.id === '') throw new ManifestError(`${file}: page ${p + 1}: an entry has no id`);
      const value = item.value ?? {};
      const uri = typeof value.uri === 'string' && /^https?:\/\//i.test(value.uri) ? value.uri : undefined;
      const extra = qiniuExtra({ label: typeof value.label === 'string' ? value.label : undefined, desc: value.desc === '' ? undefined : value.desc });
      entries.push({ id: item.id, uri, extra, image: uri });
    }
  });
  return { entries, baseDir: path.dirname(file), kind: 'Qiniu group listing' };
}

// ---- operator --------------------------------------------------------------------------------------

function operatorSource(file: string): ImportSource {
  const entries = jsonLines(file).map(({ value, where }) => {
    const v = value as Record<string, unknown>;
    if (typeof v?.image_id !== 'string' || typeof v.image_uri !== 'string') throw new ManifestError(`${where}: image_id and image_uri are required`);
    return entryOf(
      {
        id: operatorImageKey(v.image_id, v.image_uri),
        itemId: v.image_id,
        uri: v.image_uri,
        tags: v.tags ?? undefined,
        imageBase64: typeof v.image_base64 === 'string' && v.image_base64 !== '' ? v.image_base64 : undefined,
        image: typeof v.image_base64 === 'string' && v.image_base64 !== '' ? undefined : v.image_uri,
        keepImage: v.save_image === true,
      },
      where,
    );
  });
  return { entries, baseDir: path.dirname(file), kind: 'operator import file' };
}
