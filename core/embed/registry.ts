/**
 * The models the engine can use: folders under one models directory, each with a manifest.json.
 * A model is loaded once, on first use, and shared by every library that names it.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../errors';
import type { ModelManifest } from './manifest';
import { loadModel, type LoadedModel } from './runner';

export class ModelRegistry {
  private readonly loading = new Map<string, Promise<LoadedModel>>();

  constructor(
    /** Folder holding one sub-folder per model. */
    readonly modelsDir: string,
    /** Model used by libraries created without one. */
    readonly defaultModel: string,
  ) {}

  /** Names of the model folders present (those with a manifest.json). */
  names(): string[] {
    if (!existsSync(this.modelsDir)) return [];
    return readdirSync(this.modelsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(this.modelsDir, d.name, 'manifest.json')))
      .map((d) => d.name)
      .sort();
  }

  has(name: string): boolean {
    return /^[A-Za-z0-9._-]+$/.test(name) && existsSync(path.join(this.modelsDir, name, 'manifest.json'));
  }

  get(name: string): Promise<LoadedModel> {
    let model = this.loading.get(name);
    if (!model) {
      if (!this.has(name)) return Promise.reject(new NotFoundError('model', name));
      model = loadModel(path.join(this.modelsDir, name));
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
