/**
 * An image acknowledged with 200 survives a kill -9 of the gateway process: a real `isg serve` child is
 * killed with SIGKILL while images are being added, restarted on the same data directory, and every
 * acknowledged image is searched for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PREFIX } from '../../adapters/operator/limits';
import { post } from '../helpers/gateway';
import { productImage } from '../helpers/product-images';

const ROOT = path.resolve(__dirname, '../..');

function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin/isg.ts'), 'serve', '--port', '0', '--data', dataDir], {
    cwd: ROOT,
    env: { ...process.env, ISG_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.once('exit', (code) => reject(new Error(`isg serve exited with ${code}: ${err}`)));
  });
}

test('acknowledged images survive SIGKILL', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-crash-'));
  try {
    let { child, url } = await serve(dataDir);
    await post(`${url}${PREFIX}/library/create`, { library_name: 'durable', mode: 'general_search' });
    const colors = ['red', 'green', 'blue', 'orange', 'purple', 'teal', 'olive', 'navy'];
    const images = await Promise.all(colors.map((c) => productImage(c, 'circle', { width: 300, height: 300 })));
    const acknowledged: string[] = [];
    let failed = 0;
    // Writers run until the process is killed under them.
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = 0; failed === 0; i++) {
        const id = `w${w}-${i}`;
        try {
          const res = await post(`${url}${PREFIX}/image/add`, {
            library_name: 'durable',
            image_id: id,
            image_uri: `${id}.jpg`,
            image_base64: images[i % images.length].toString('base64'),
          });
          if (res.status === 200) acknowledged.push(id);
        } catch {
          failed++;
        }
      }
    });
    while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 10));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await Promise.all([exited, ...writers]);

    ({ child, url } = await serve(dataDir));
    try {
      const found = new Set<string>();
      let cursor: string | null = null;
      do {
        const res: any = await post(`${url}${PREFIX}/image/list`, { library_name: 'durable', limit: 1000, ...(cursor ? { cursor } : {}) });
        res.body.data.images.forEach((i: any) => found.add(i.image_id));
        cursor = res.body.data.next_cursor;
      } while (cursor);
      expect(acknowledged.filter((id) => !found.has(id))).toEqual([]);
      // And they are searchable, not just listed.
      const search = await post(`${url}${PREFIX}/search/by-image`, { library_name: 'durable', image_base64: images[0].toString('base64'), top_k: 1 });
      expect(search.body.data.results[0].score).toBeGreaterThan(0.99);
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
