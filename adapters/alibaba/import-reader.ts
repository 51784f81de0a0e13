/**
 * `isg import --vendor alibaba`: DumpMeta / increment.meta JSON lines {"operator","item_id","pic_list",...}
 * → manifest entries, keys mapped as keys.ts maps them. Pictures are files beside the meta file (as
 * IncreaseInstance reads them) or http(s) URLs. A folder means its increment.meta.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { jsonLines, type ImportSource } from '../migration/import-source';
import { ManifestError, type ManifestEntry } from '../migration/manifest';
import type { ImportReader } from '../vendor';
import { ATTRIBUTES, imageId as alibabaImageId } from './keys';
import { INCREMENT_META_FILE } from './limits';

export const IMPORT_READER: ImportReader = {
  describe: 'DumpMeta/increment.meta',
  read: (source) => alibabaSource(statSync(source).isDirectory() ? path.join(source, INCREMENT_META_FILE) : source),
};

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
