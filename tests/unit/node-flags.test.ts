/**
 * The gateway's V8 flags (bin/node-flags.ts) are one fact written in four launchers: isg's shebang,
 * npm start, the Dockerfile's CMD and the benches' gateway process (which imports them). Each carries them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS, missingNodeFlags } from '../../bin/node-flags';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('the gateway process V8 flags', () => {
  it('names at least one flag, each a V8 option', () => {
    expect(GATEWAY_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const flag of GATEWAY_NODE_FLAGS) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
  });

  it('are in the shebang of isg, which `npx isg serve` runs', () => {
    const shebang = read('bin/isg.ts').split('\n')[0];
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    expect(shebang.split(/\s+/)).toEqual(expect.arrayContaining([...GATEWAY_NODE_FLAGS]));
  });

  it('are in npm start, before the script', () => {
    const start: string = JSON.parse(read('package.json')).scripts.start;
    expect(start).toBe(`node ${GATEWAY_NODE_FLAGS.join(' ')} dist/bin/isg.js serve`);
  });

  it("are in the Dockerfile's CMD, before the script", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('deploy/Dockerfile'));
    expect(cmd).not.toBeNull();
    expect(JSON.parse(cmd![1])).toEqual(['node', ...GATEWAY_NODE_FLAGS, 'dist/bin/isg.js', 'serve']);
  });

  it('tells which are missing from a process', () => {
    expect(missingNodeFlags([...GATEWAY_NODE_FLAGS, '--inspect'])).toEqual([]);
    expect(missingNodeFlags([])).toEqual([...GATEWAY_NODE_FLAGS]);
  });
});
