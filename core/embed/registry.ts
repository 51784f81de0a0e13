/**
 * The models the engine can use: folders under one models directory, each with a manifest.json or in
 * the Immich layout (see immich-layout.ts). A model is loaded once, on first use, and shared by every
 * library that names it.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../errors';
import type { ModelManifest } from './manifest';
import { isModelFolder, readModelManifest } from './model-folder';
import { loadModel, type LoadedModel, type LoadModelOptions } from './runner';

/** Model names are folder names: no separators, nothing hidden. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class ModelRegistry {
  private readonly loading = new Map<string, Promise<LoadedModel>>();

  constructor(
    /** Folder holding one sub-folder per model. */
    readonly modelsDir: string,
    /** Model used by libraries created without one. */
    readonly defaultModel: string,
    /** Options every model is loaded with (threads, batch size, text cache). */
    private readonly loadOptions: LoadModelOptions = {},
  ) {}

  /** Names of the model folders present (a manifest.json or an Immich layout). */
  names(): string[] {
    if (!existsSync(this.modelsDir)) return [];
    return readdirSync(this.modelsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && MODEL_NAME_PATTERN.test(d.name) && isModelFolder(path.join(this.modelsDir, d.name)))
      .map((d) => d.name)
      .sort();
  }

  has(name: string): boolean {
    return MODEL_NAME_PATTERN.test(name) && isModelFolder(path.join(this.modelsDir, name));
  }

  /** A model's manifest without loading it (for listings). */
  describe(name: string): Promise<ModelManifest> {
    if (!this.has(name)) return Promise.reject(new NotFoundError('model', name));
    return readModelManifest(path.join(this.modelsDir, name));
  }

  get(name: string): Promise<LoadedModel> {
    let model = this.loading.get(name);
    if (!model) {
      if (!this.has(name)) return Promise.reject(new NotFoundError('model', name));
      model = loadModel(path.join(this.modelsDir, name), this.loadOptions);
      model.catch(() => this.loading.delete(name));
      this.loading.set(name, model);
    }
    return model;
  }

  async manifest(name: string): Promise<ModelManifest> {
    return (await this.get(name)).manifest;
  }

  async close(): Promise<void> {
    const models = await Promise.allSettled(this.loading.values());
    this.loading.clear();
    await Promise.all(models.map((m) => (m.status === 'fulfilled' ? m.value.close() : undefined)));
  }
}
