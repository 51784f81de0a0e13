/**
 * The three official-SDK suites again, over HTTPS: a CA and server certificate written the way `isg cert`
 * writes them, a gateway listening for HTTPS beside HTTP (server.tls), and the SDKs of Alibaba, Huawei and
 * Qiniu on their default https protocol, trusting the CA through NODE_EXTRA_CA_CERTS — which Node reads only
 * at start, hence a child jest process. Nothing disables certificate verification (tests/helpers/sdk-transport.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureSelfSigned } from '../../bin/commands/cert';
import { SDK_TLS_DIR_ENV } from '../helpers/sdk-transport';

const ROOT = path.resolve(__dirname, '../..');
const SUITES = ['tests/sdk/alibaba.test.ts', 'tests/sdk/huawei.test.ts', 'tests/sdk/qiniu.test.ts'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-sdk-tls-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the Alibaba, Huawei and Qiniu SDK suites pass over HTTPS with the generated CA trusted', async () => {
  const { files } = ensureSelfSigned(path.join(dir, 'tls'));
  const env: NodeJS.ProcessEnv = { ...process.env, [SDK_TLS_DIR_ENV]: path.dirname(files.cert), NODE_EXTRA_CA_CERTS: files.ca };
  delete env.NODE_TLS_REJECT_UNAUTHORIZED; // verification must stay on
  delete env.JEST_WORKER_ID;
  const report = path.join(dir, 'report.json');
  const args = [require.resolve('jest/bin/jest'), '--runInBand', '--ci', '--json', `--outputFile=${report}`, ...SUITES];
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
  });

  const result = JSON.parse(readFileSync(report, 'utf8')) as {
    numFailedTests: number;
    numPassedTests: number;
    numTotalTests: number;
    testResults: Array<{ name: string; status: string; assertionResults: Array<{ status: string }> }>;
  };
  const bySuite = result.testResults.map((r) => [path.relative(ROOT, r.name), r.status, r.assertionResults.length > 0]).sort();
  // On failure, the child's own report says what went wrong.
  expect({ bySuite, failed: result.numFailedTests, output: result.numFailedTests > 0 ? output.slice(-20_000) : '' }).toEqual({
    bySuite: SUITES.map((s) => [s, 'passed', true]).sort(),
    failed: 0,
    output: '',
  });
  expect(result.numPassedTests).toBe(result.numTotalTests);
}, 900_000);
