/**
 * Each vendor is one folder: outside adapters/<vendor>/, no file under adapters/, core/ or bin/ names a
 * vendor (case-insensitive), except the list (adapters/vendors.ts) and the config schema and loader
 * (adapters/config.ts, bin/config.ts), which name the vendors' config sections. Comments count: a reader
 * who finds a vendor named elsewhere will look for its facts there. And vendor folders import no other
 * vendor's folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { VENDORS } from '../../adapters/vendors';

const ROOT = path.resolve(__dirname, '../..');
const ADAPTERS = path.join(ROOT, 'adapters');

/** The vendors: the folders under adapters/ that hold an adapter.ts, which must be the ones listed. */
const vendorFolders = readdirSync(ADAPTERS).filter((d) => statSync(path.join(ADAPTERS, d)).isDirectory() && readdirSync(path.join(ADAPTERS, d)).includes('adapter.ts'));

const MAY_NAME_VENDORS = new Set(['adapters/vendors.ts', 'adapters/config.ts', 'bin/config.ts']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [path.relative(ROOT, full).split(path.sep).join('/')];
  });
}

test('the vendor folders are exactly the vendors of adapters/vendors.ts', () => {
  expect(vendorFolders.sort()).toEqual(VENDORS.map((v) => v.name).sort());
});

test('outside its own folder, no file under adapters/, core/ or bin/ names a vendor', () => {
  const names = new RegExp(`(${vendorFolders.join('|')})`, 'i');
  const ownFolder = new RegExp(`^adapters/(${vendorFolders.join('|')})/`);
  const offenders: string[] = [];
  for (const file of ['adapters', 'core', 'bin'].flatMap((d) => filesUnder(path.join(ROOT, d)))) {
    if (ownFolder.test(file) || MAY_NAME_VENDORS.has(file)) continue;
    readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (names.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  expect(offenders).toEqual([]);
});

test('a vendor folder imports no other vendor folder', () => {
  const offenders: string[] = [];
  for (const vendor of vendorFolders) {
    const others = vendorFolders.filter((v) => v !== vendor);
    const foreign = new RegExp(`from '(\\.\\./)+(${others.join('|')})(/|')`);
    for (const file of filesUnder(path.join(ADAPTERS, vendor)).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      if (foreign.test(text)) offenders.push(file);
    }
  }
  expect(offenders).toEqual([]);
});
