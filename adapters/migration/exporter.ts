/**
 * Export of one library to a library folder (manifest.ts): library.json, manifest.jsonl with every record
 * (ids, item ids, uris, tags, vendor extras) and images/ with the original bytes of records that kept them.
 * Records without stored bytes keep their uri (when they have one), from which an import fetches them again.
 * The manifest is written to a temporary name and renamed at the end, so a folder never holds half of one.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../../core/engine';
import { sniffFormat } from '../../core/image';
import type { LibraryRef } from '../../core/records';
import { IMAGES_DIR, LIBRARY_FILE, MANIFEST_FILE, entryLine, type LibraryDefinition, type ManifestEntry } from './manifest';

export interface ExportReport {
  records: number;
  images: number;
}

const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', gif: 'gif', webp: 'webp', tiff: 'tif' };

export async function runExport(o: {
  engine: Engine;
  ref: LibraryRef;
  outDir: string;
  pageSize?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<ExportReport> {
  const library = await o.engine.getLibrary(o.ref);
  const total = await o.engine.countImages(o.ref);
  await mkdir(path.join(o.outDir, IMAGES_DIR), { recursive: true });
  const definition: LibraryDefinition = {
    name: library.name,
    mode: library.mode,
    model: library.model,
    description: library.description,
    tagKeys: library.tagKeys,
    capacity: library.capacity,
    extra: library.extra,
  };
  await writeFile(path.join(o.outDir, LIBRARY_FILE), JSON.stringify(definition, null, 2) + '\n');

  const partial = path.join(o.outDir, `${MANIFEST_FILE}.partial`);
  const out = createWriteStream(partial);
  const finished = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  const report: ExportReport = { records: 0, images: 0 };
  let cursor: string | undefined;
  do {
    const page = await o.engine.listImages(o.ref, { cursor, limit: o.pageSize ?? 500 });
    for (const record of page.images) {
      const entry: ManifestEntry = { id: record.id, itemId: record.itemId, uri: record.uri, tags: record.tags, extra: record.extra };
      const bytes = record.hasImage ? await o.engine.getImageBytes(o.ref, record.id) : undefined;
      if (bytes) {
        const name = `${IMAGES_DIR}/${String(report.records + 1).padStart(8, '0')}.${EXTENSIONS[sniffFormat(bytes) ?? ''] ?? 'bin'}`;
        await writeFile(path.join(o.outDir, name), bytes);
        entry.image = name;
        entry.keepImage = true;
        report.images++;
      }
      if (!out.write(entryLine(entry) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
      report.records++;
    }
    o.onProgress?.(report.records, total);
    cursor = page.nextCursor;
  } while (cursor);
  out.end();
  await finished;
  await rename(partial, path.join(o.outDir, MANIFEST_FILE));
  return report;
}
