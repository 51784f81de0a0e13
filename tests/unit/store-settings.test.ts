/** The config file's `store` section as the gateway opens it (bin/store-settings.ts, core/store/open-store.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../bin/config';
import type { EmbeddedStore } from '../../core/store/embedded';
import { openStore } from '../../core/store/open-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-store-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const settingsWith = (store: object) => {
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ store }));
  return loadSettings({ dataDir: dir, configFile }, {});
};

it.each([
  [{}, 'normal'],
  [{ synchronous: 'normal' }, 'normal'],
  [{ synchronous: 'full' }, 'full'],
] as const)('opens the embedded store with store.synchronous (%j: %s)', async (section, expected) => {
  const store = (await openStore(settingsWith(section).store!)) as EmbeddedStore;
  try {
    expect(store.synchronous).toBe(expected);
    await store.createLibrary({ tenant: 't', name: 'l', mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages({ tenant: 't', name: 'l' }, [
      { record: { id: 'a', tags: {}, hasImage: true, createdAt: 0, updatedAt: 0 }, vector: new Float32Array([1, 0]), image: Buffer.from('x') },
    ]);
    expect(Array.from((await store.getVector({ tenant: 't', name: 'l' }, 'a'))!)).toEqual([1, 0]);
  } finally {
    await store.close();
  }
});

it('refuses a store.synchronous SQLite has but the store does not offer', () => {
  expect(() => settingsWith({ synchronous: 'off' })).toThrow(/synchronous/);
});
