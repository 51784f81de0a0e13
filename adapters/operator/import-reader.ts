/**
 * `isg import --vendor operator`: image/tasks/create import lines {"image_id","image_uri","image_base64",
 * "tags","save_image"} → manifest entries, keys mapped as keys.ts maps them.
 */
import path from 'node:path';
import { jsonLines, type ImportSource } from '../migration/import-source';
import { entryOf, ManifestError } from '../migration/manifest';
import type { ImportReader } from '../vendor';
import { imageKey as operatorImageKey } from './keys';

export const IMPORT_READER: ImportReader = { describe: 'import lines', read: (source) => operatorSource(source) };

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
