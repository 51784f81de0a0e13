/**
 * Each tenant's import area: the batch import files vendor APIs name (a task's file path and the images its
 * lines name, an instance's bucket and path) are read from `<imports.dir>/<tenant>/` only.
 * A tenant id made of plain characters is its folder's name; any other (open mode names tenants by their
 * keys) becomes `t-` and 16 hex digits of its SHA-256.
 *
 * Every path that cannot be read — missing, outside the area (`..`, absolute, a symlink out), another
 * tenant's, a folder where a file is wanted, a NUL byte, no permission — fails with one neutral message that
 * names only what the caller sent, so an answer reveals neither the data directory nor whether a file exists
 * elsewhere.
 */
import { createHash } from 'node:crypto';
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export class ImportPathError extends Error {
  constructor(readonly given: string) {
    super(`'${given}' cannot be read from the import folder`);
  }
}

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The folder name of a tenant's import area. */
export function tenantFolder(tenant: string): string {
  return PLAIN.test(tenant) && !tenant.includes('..') ? tenant : `t-${createHash('sha256').update(tenant).digest('hex').slice(0, 16)}`;
}

/** `<importDir>/<tenant folder>`, created when missing so whoever runs the gateway knows where to put files. */
export async function tenantImportDir(importDir: string, tenant: string): Promise<string> {
  const dir = path.join(importDir, tenantFolder(tenant));
  await mkdir(dir, { recursive: true });
  return dir;
}

/** The real path of `given` inside the tenant's import area, which must be a `kind`; else ImportPathError. */
export async function resolveImportPath(importDir: string, tenant: string, given: string, kind: 'file' | 'folder'): Promise<string> {
  if (given.includes('\0')) throw new ImportPathError(given);
  try {
    const root = await realpath(await tenantImportDir(importDir, tenant));
    const resolved = await realpath(path.resolve(root, given.replace(/^\/+/, '')));
    if (resolved !== root && !resolved.startsWith(root + path.sep)) throw new ImportPathError(given);
    const info = await stat(resolved);
    if (kind === 'file' ? !info.isFile() : !info.isDirectory()) throw new ImportPathError(given);
    return resolved;
  } catch {
    throw new ImportPathError(given);
  }
}
