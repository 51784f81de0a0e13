/**
 * One process per data directory: the in-memory caches and the ANN index assume they see every write.
 * The lock file holds the owner's pid; a lock left by a dead process (kill -9) is taken over.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UnavailableError } from '../../errors';

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDirLock(dir: string): () => void {
  const file = path.join(dir, 'LOCK');
  const key = path.resolve(file);
  if (heldHere.has(key)) throw new UnavailableError(`data directory ${dir} is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      heldHere.add(key);
      return () => {
        heldHere.delete(key);
        try {
          fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new UnavailableError(`data directory ${dir} is in use by process ${owner}`);
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new UnavailableError(`could not lock data directory ${dir}`);
}
