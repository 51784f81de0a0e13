/**
 * Each tenant's import area (adapters/http/import-area.ts), which both the operator's image/tasks/create and
 * Alibaba's IncreaseInstance read through: a tenant reads only `<imports.dir>/<tenant>/`, and every path it
 * cannot read fails with the same neutral message, whether the file is missing, elsewhere or another's.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImportPathError, resolveImportPath, tenantFolder } from '../../adapters/http/import-area';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-imports-'));
  mkdirSync(path.join(dir, 'acme', 'bucket', 'batch'), { recursive: true });
  writeFileSync(path.join(dir, 'acme', 'bucket', 'batch', 'increment.meta'), '{}\n');
  writeFileSync(path.join(dir, 'outside.txt'), 'not in any tenant area');
  symlinkSync(path.join(dir, 'outside.txt'), path.join(dir, 'acme', 'link.txt'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a tenant reads its own files, by folder and by file', async () => {
  expect(await resolveImportPath(dir, 'acme', 'bucket/batch/increment.meta', 'file')).toBe(path.join(dir, 'acme', 'bucket', 'batch', 'increment.meta'));
  expect(await resolveImportPath(dir, 'acme', '/bucket/batch', 'folder')).toBe(path.join(dir, 'acme', 'bucket', 'batch'));
});

test.each([
  ['another tenant asking for the same path', 'globex', 'bucket/batch/increment.meta'],
  ['a missing file', 'acme', 'bucket/batch/nope.meta'],
  ['a way out with ..', 'acme', '../outside.txt'],
  ['into another tenant with ..', 'globex', '../acme/bucket/batch/increment.meta'],
  ['a symlink out of the area', 'acme', 'link.txt'],
  ['a folder where a file is wanted', 'acme', 'bucket/batch'],
  ['a NUL byte', 'acme', 'bucket\u0000/batch'],
])('%s: the one neutral error', async (_case, tenant, given) => {
  const error = await resolveImportPath(dir, tenant, given, 'file').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImportPathError);
  expect((error as Error).message).toBe(`'${given}' cannot be read from the import folder`);
});

test('tenant ids that are not plain names get a hashed folder (open mode names tenants by their keys)', () => {
  expect(tenantFolder('acme')).toBe('acme');
  expect(tenantFolder('sk-live/../../x')).toMatch(/^t-[0-9a-f]{16}$/);
  expect(tenantFolder('..')).toMatch(/^t-/);
});
