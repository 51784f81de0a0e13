/**
 * Reading a model folder's manifest: its manifest.json when there is one, otherwise the manifest
 * derived from an Immich-layout folder (immich-layout.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isImmichLayout, manifestFromImmichLayout } from './immich-layout';
import type { ModelManifest } from './manifest';

export const MANIFEST_FILE = 'manifest.json';

/** Whether `dir` holds a model (a manifest.json or an Immich layout). */
export function isModelFolder(dir: string): boolean {
  return existsSync(path.join(dir, MANIFEST_FILE)) || isImmichLayout(dir);
}

export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file) && isImmichLayout(dir)) return manifestFromImmichLayout(dir);
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as ModelManifest;
  } catch (err) {
    throw new Error(`model ${dir}: cannot read ${MANIFEST_FILE}: ${(err as Error).message}`);
  }
  const v = manifest.visual;
  if (!manifest.name || !(manifest.dimension > 0) || !v?.file || typeof v.input !== 'string' || typeof v.output !== 'string' || !v.preprocess) {
    throw new Error(`model ${dir}: ${MANIFEST_FILE} lacks name, dimension or visual.{file,input,output,preprocess}`);
  }
  const t = manifest.textual;
  if (t && (!t.file || !t.tokenizer || !(t.contextLength >= 2))) {
    throw new Error(`model ${dir}: ${MANIFEST_FILE} textual needs file, tokenizer and contextLength`);
  }
  return manifest;
}
