/**
 * `isg import --vendor qiniu`: group listings, the answers of GET /v1/image/group/<group>?marker=&limit= (one
 * JSON page per line, or a JSON array of pages) → manifest entries: id, label, desc, and uri when listed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { jsonLines, type ImportSource } from '../migration/import-source';
import { ManifestError, type ManifestEntry } from '../migration/manifest';
import type { ImportReader } from '../vendor';
import { qiniuExtra } from './keys';

export const IMPORT_READER: ImportReader = { describe: 'group listings', read: (source) => qiniuSource(source) };

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
