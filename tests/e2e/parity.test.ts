/**
 * isg parity, end to end with two real gateways in verify mode: one plays the vendor (recorded against),
 * the other is checked. The parity clients sign with their own signers, so every step that reaches an
 * operation proves the signer against the gateway's verifiers (the same verifiers that accept the official
 * SDKs' captures). Then a behaviour changed on the checked side (a fault for one operation, or a different
 * Qiniu system threshold) must show up in the right step and field, with a non-zero exit code.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GatewayConfig } from '../../adapters/config';
import { parityCommand } from '../../bin/commands/parity';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const ADMIN = 'parity-admin-key';
const CREDENTIALS = {
  huawei: { accessKey: 'HPUAPARITYACCESSKEY01', secretKey: 'huawei-parity-secret-key-0123456789', projectId: '5f0c0ffee0ddf00d5f0c0ffee0ddf00d' },
  alibaba: { accessKeyId: 'LTAI5tParityAccessKey1', accessKeySecret: 'alibaba-parity-secret-0123456789', instanceName: 'shopinstance' },
  qiniu: { accessKey: 'QiniuParityAccessKey_0123456789', secretKey: 'qiniu-parity-secret-0123456789abcd' },
  operator: { apiKey: 'operator-parity-api-key-0123456789' },
};
const IAM_USER = { user: 'parity-user', password: 'iam-parity-password-0123456789', domain: 'acme-account', projectId: CREDENTIALS.huawei.projectId };
const SECRETS = [
  IAM_USER.password,
  CREDENTIALS.huawei.accessKey, CREDENTIALS.huawei.secretKey, CREDENTIALS.huawei.projectId,
  CREDENTIALS.alibaba.accessKeyId, CREDENTIALS.alibaba.accessKeySecret, CREDENTIALS.alibaba.instanceName,
  CREDENTIALS.qiniu.accessKey, CREDENTIALS.qiniu.secretKey, CREDENTIALS.operator.apiKey,
];

const CONFIG: Partial<GatewayConfig> = {
  auth: {
    mode: 'verify',
    tenants: [
      {
        id: 'acme',
        huawei: {
          accessKeys: [{ ak: CREDENTIALS.huawei.accessKey, sk: CREDENTIALS.huawei.secretKey }],
          projects: [{ id: CREDENTIALS.huawei.projectId, name: 'cn-north-4' }],
          domain: IAM_USER.domain,
          users: [{ name: IAM_USER.user, password: IAM_USER.password }],
        },
        alibaba: { accessKeys: [{ id: CREDENTIALS.alibaba.accessKeyId, secret: CREDENTIALS.alibaba.accessKeySecret }] },
        qiniu: { accessKeys: [{ ak: CREDENTIALS.qiniu.accessKey, sk: CREDENTIALS.qiniu.secretKey }] },
        operator: { apiKeys: [CREDENTIALS.operator.apiKey] },
      },
    ],
  },
  libraries: [{ tenant: 'acme', name: CREDENTIALS.alibaba.instanceName, mode: 'general_search' }],
  control: { adminKeys: [ADMIN] },
};

const VENDORS = ['huawei', 'alibaba', 'qiniu', 'operator'] as const;

let vendorSide: TestGateway;
let checked: TestGateway;
let work: string;
let credentialsFile: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'isg-parity-'));
  credentialsFile = path.join(work, 'credentials.json');
  writeFileSync(credentialsFile, JSON.stringify(CREDENTIALS));
  vendorSide = await startTestGateway(CONFIG);
  checked = await startTestGateway(CONFIG);
});

afterAll(async () => {
  await vendorSide?.destroy();
  await checked?.destroy();
  rmSync(work, { recursive: true, force: true });
});

async function isg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await parityCommand(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

function record(vendor: string, endpoint: string, out: string, extra: string[] = []) {
  return isg(['record', '--vendor', vendor, '--endpoint', endpoint, '--credentials', credentialsFile, '--out', out, '--yes-i-own-this-account', ...extra]);
}

function check(recording: string, endpoint: string, extra: string[] = []) {
  return isg(['check', '--recording', recording, '--endpoint', endpoint, '--credentials', credentialsFile, ...extra]);
}

function folderBytes(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

async function control(gateway: TestGateway, method: string, route: string, body?: unknown) {
  const res = await fetch(`${gateway.url}/_gateway/${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
}

/** A rule that answers the step's operation once with the vendor's own error, and where it must show. */
const CHANGES = {
  huawei: { fault: { vendor: 'huawei', operation: 'checkPicture', code: 'IS.2006', times: 1 }, step: 'check-picture', field: 'response.status' },
  alibaba: { fault: { vendor: 'alibaba', operation: 'UpdateImage', code: 'PicNotExist', times: 1 }, step: 'update-image', field: 'response.status' },
  operator: { fault: { vendor: 'operator', operation: 'image/delete', code: 'LIBRARY_NOT_FOUND', times: 1 }, step: 'delete-image', field: 'response.status' },
} as const;

describe.each(VENDORS)('isg parity, %s', (vendor) => {
  const dir = (name: string) => path.join(work, `${vendor}-${name}`);
  let first: Awaited<ReturnType<typeof isg>>;

  // The recording every test of this vendor compares with.
  beforeAll(async () => {
    first = await record(vendor, vendorSide.url, dir('a'));
  });

  test('two recordings of the same gateway are byte-identical and hold no secret', async () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const second = await record(vendor, vendorSide.url, dir('b'));
    expect(second.code).toBe(0);

    const a = folderBytes(dir('a'));
    expect(folderBytes(dir('b'))).toEqual(a);
    const manifest = JSON.parse(a['recording.json']);
    expect(manifest.vendor).toBe(vendor);
    expect(manifest.steps.length).toBeGreaterThan(10);
    expect(manifest.steps[manifest.steps.length - 1]).toMatch(/^\d\d-cleanup-/);
    expect(a['README.md']).toMatch(/No secret/);

    const all = Object.values(a).join('\n');
    for (const secret of SECRETS) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/isgp-[a-z0-9]{8}/); // the scratch name is a token
    expect(all).not.toMatch(/iVBORw0KGgo/); // no image bytes (PNG Base64)
    expect(all).toContain('<scratch>');

    // Every operation step got past the signature check: no signature/auth error anywhere.
    expect(all).not.toMatch(/APIGW\.030|SignatureDoesNotMatch|InvalidAccessKeyId|bad token|UNAUTHORIZED|IncompleteSignature/);
    // The searches answered with results whose scores are tokens in order.
    expect(all).toContain('"<score>"');
    expect(all).not.toContain('"<score:rises>"');
  });

  test('the scenario left nothing behind on the vendor side', async () => {
    const libraries = await vendorSide.engine.listLibraries('acme');
    expect(libraries.filter((l) => l.name.startsWith('isgp-'))).toEqual([]);
    const instance = libraries.find((l) => l.name === CREDENTIALS.alibaba.instanceName);
    expect(instance?.imageCount).toBe(0); // Alibaba: only the scenario's own products were added, and deleted
  });

  test('check against the second gateway: every step identical, exit 0', async () => {
    const result = await check(dir('a'), checked.url);
    const steps = JSON.parse(readFileSync(path.join(dir('a'), 'recording.json'), 'utf8')).steps.length;
    expect(result.stdout).toContain(`parity: ${steps}/${steps} steps identical`);
    expect(result.stdout).not.toMatch(/ (differs|missing|extra)$/m);
    expect(result.code).toBe(0);
  });

  test('a changed behaviour on the checked gateway shows in the right step and field', async () => {
    let target: TestGateway = checked;
    let step: string;
    let field: string;
    if (vendor === 'qiniu') {
      // A different system setting: searches never go below threshold 0.999, so near copies drop out.
      target = await startTestGateway({ ...CONFIG, qiniu: { searchThreshold: 0.999 } });
      step = 'search-groups';
      field = 'response.body.result[0]';
    } else {
      const change = CHANGES[vendor];
      await control(checked, 'POST', 'faults', change.fault);
      step = change.step;
      field = change.field;
    }
    try {
      // --max-wait 0: the first search never finds the near copy now; do not wait for it to appear.
      const result = await check(dir('a'), target.url, ['--max-wait', '0']);
      expect(result.code).toBe(1);
      const lines = result.stdout.split('\n');
      // The change shows first in its step (later steps may follow from it: an image not deleted is still counted).
      const row = lines.findIndex((l) => / (differs|missing|extra)$/.test(l));
      expect(lines[row]).toMatch(new RegExp(`^${step}\\s+differs$`));
      const details: string[] = [];
      for (let i = row + 1; i < lines.length && /^\s/.test(lines[i]); i++) details.push(lines[i].trim());
      expect(details.some((d) => d.startsWith(`${field}`))).toBe(true);
      const [, same, total] = /^parity: (\d+)\/(\d+) steps identical$/m.exec(result.stdout) ?? [];
      expect(Number(same)).toBeLessThan(Number(total));
    } finally {
      if (vendor === 'qiniu') await target.destroy();
      else await control(checked, 'DELETE', 'faults');
    }
  });
});

test('Huawei with an IAM user: the token path records the same bytes as AK/SK, and holds neither password nor token', async () => {
  const aksk = path.join(work, 'huawei-aksk');
  const iam = path.join(work, 'huawei-iam');
  const iamCredentials = path.join(work, 'iam-credentials.json');
  writeFileSync(iamCredentials, JSON.stringify({ huawei: IAM_USER }));
  expect((await record('huawei', vendorSide.url, aksk)).code).toBe(0);
  const result = await isg(['record', '--vendor', 'huawei', '--endpoint', vendorSide.url, '--credentials', iamCredentials, '--out', iam, '--yes-i-own-this-account']);
  expect(result.code).toBe(0);
  const bytes = folderBytes(iam);
  expect(bytes).toEqual(folderBytes(aksk));
  const all = Object.values(bytes).join('\n');
  expect(all).not.toContain(IAM_USER.password);
  expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // no JWT (the gateway's tokens)

  const wrong = path.join(work, 'wrong-iam-credentials.json');
  writeFileSync(wrong, JSON.stringify({ huawei: { ...IAM_USER, password: 'not-the-password' } }));
  await expect(isg(['record', '--vendor', 'huawei', '--endpoint', vendorSide.url, '--credentials', wrong, '--out', path.join(work, 'huawei-wrong'), '--yes-i-own-this-account'])).rejects.toThrow(
    /IAM .* refused the token request \(HTTP 401\)/,
  );
});

describe('isg parity safety', () => {
  test('isg parity --help documents every flag and each vendor\'s credentials entry', async () => {
    const help = await isg(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--vendor', '--endpoint', '--credentials', '--out', '--recording', '--max-requests', '--dry-run', '--yes-i-own-this-account']) {
      expect(help.stdout).toContain(flag);
    }
    for (const vendor of VENDORS) expect(help.stdout).toContain(`{"${vendor}": {`);
  });

  test('record refuses to send without --yes-i-own-this-account', async () => {
    await expect(isg(['record', '--vendor', 'qiniu', '--endpoint', vendorSide.url, '--credentials', credentialsFile, '--out', path.join(work, 'refused')])).rejects.toThrow(
      /--yes-i-own-this-account/,
    );
    expect(readdirSync(work)).not.toContain('refused');
    // Nor into a folder that holds something else.
    const other = path.join(work, 'other-files');
    mkdirSync(other);
    writeFileSync(path.join(other, 'notes.txt'), 'mine');
    await expect(record('qiniu', vendorSide.url, other)).rejects.toThrow(/holds other files/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  test('--dry-run prints every request, sends none and shows no secret', async () => {
    const before = (await vendorSide.engine.listLibraries('acme')).length;
    const result = await isg(['record', '--vendor', 'huawei', '--endpoint', vendorSide.url, '--credentials', credentialsFile, '--dry-run']);
    expect(result.code).toBe(0);
    const requests = result.stdout.match(/^\d\d [a-z0-9-]+$/gm) ?? [];
    expect(requests.length).toBeGreaterThan(10);
    expect(result.stdout).toContain(`dry run: ${requests.length} requests, none sent`);
    expect(result.stdout).toMatch(/^  POST http:\/\/127\.0\.0\.1:\d+\/v1\/[0-9a-f]+\/service$/m);
    expect(result.stdout).toContain('authorization: <removed>');
    expect(result.stdout).not.toContain(CREDENTIALS.huawei.secretKey);
    expect(result.stdout).not.toContain(CREDENTIALS.huawei.accessKey);
    expect(result.stdout).not.toMatch(/iVBORw0KGgo/);
    expect((await vendorSide.engine.listLibraries('acme')).length).toBe(before);
  });

  test('check refuses a folder that is no recording, and a recording of another scenario version', async () => {
    await expect(isg(['check', '--recording', work, '--endpoint', checked.url])).rejects.toThrow(/is not a parity recording/);
    const old = path.join(work, 'old-version');
    await record('operator', vendorSide.url, old, ['--max-requests', '1']);
    const manifest = JSON.parse(readFileSync(path.join(old, 'recording.json'), 'utf8'));
    writeFileSync(path.join(old, 'recording.json'), JSON.stringify({ ...manifest, scenarioVersion: manifest.scenarioVersion + 1 }));
    await expect(isg(['check', '--recording', old, '--endpoint', checked.url])).rejects.toThrow(/recorded with scenario version 2; this isg runs version 1/);
  });

  test('the request bound stops the scenario, and cleanup still runs', async () => {
    const out = path.join(work, 'bounded');
    const result = await record('operator', vendorSide.url, out, ['--max-requests', '4']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/request bound \(4\)/);
    const manifest = JSON.parse(readFileSync(path.join(out, 'recording.json'), 'utf8'));
    expect(manifest.steps).toEqual(['01-library-create.json', '02-library-describe-empty.json', '03-add-red-circle.json', '04-add-blue-square.json', '05-cleanup-library-delete.json']);
    expect((await vendorSide.engine.listLibraries('acme')).filter((l) => l.name.startsWith('isgp-'))).toEqual([]);
  });

  test('check of a recording against a gateway that lost a step reports it missing, exit 1', async () => {
    // A full recording replayed with a bound: the steps past it are missing.
    const full = path.join(work, 'full');
    await record('operator', vendorSide.url, full);
    const result = await isg(['check', '--recording', full, '--endpoint', checked.url, '--credentials', credentialsFile, '--max-requests', '4']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^library-describe-empty\s+same$/m);
    expect(result.stdout).toMatch(/^search-by-image\s+missing$/m);
    expect(result.stdout).toMatch(/^parity: 4\/\d+ steps identical$/m);
  });
});
