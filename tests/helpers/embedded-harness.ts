/** The contract suite's harness (tests/unit/store-contract.ts) over an embedded store in a fresh temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStore, type EmbeddedStoreOptions } from '../../core/store/embedded';
import type { StoreHarness } from '../unit/store-contract';

/** Opens the store with `options`; `reopen` closes it and opens the same folder with them again. */
export async function embeddedHarness(options: Omit<EmbeddedStoreOptions, 'dir'> = {}): Promise<StoreHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-contract-'));
  let current = await openEmbeddedStore({ ...options, dir });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openEmbeddedStore({ ...options, dir });
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
