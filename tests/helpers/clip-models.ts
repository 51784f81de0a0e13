/**
 * A models directory for tests that need a CLIP model: the bundled default (linked) plus the generated
 * tiny CLIP-layout model (models/build-tiny-clip.ts) dropped in as an Immich folder, without a manifest.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';
import { writeTinyClip } from '../../models/build-tiny-clip';

export const TINY_CLIP = 'tiny-clip';
export const DEFAULT_MODEL_DIR = path.resolve(__dirname, '../../models/default');

/** A temp models directory holding `default` and `tiny-clip`; remove it with rmSync when done. */
export function makeModelsDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-models-'));
  symlinkSync(DEFAULT_MODEL_DIR, path.join(dir, 'default'));
  writeTinyClip(path.join(dir, TINY_CLIP));
  return dir;
}

export interface ClipGateway extends Gateway {
  modelsDir: string;
  destroy(): Promise<void>;
}

/** A real gateway on 127.0.0.1 with the models of makeModelsDir(). */
export async function startClipGateway(): Promise<ClipGateway> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-clip-test-'));
  const modelsDir = makeModelsDir();
  const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {});
  settings.modelsDir = modelsDir;
  const gateway = await startGateway(settings, pino({ level: 'silent' }));
  return {
    ...gateway,
    modelsDir,
    async destroy() {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}
