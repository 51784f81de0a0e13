/**
 * The console on a gateway in open mode (plain `npm start`): it opens on the default tenant with no sign-in
 * step, and a small "switch tenant / key" form shows another tenant's libraries (open mode names the tenant by
 * the key) and can go back to the default tenant with an empty key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';
import { OPEN_MODE_DEFAULT_TENANT } from '../../adapters/config';
import { launchChromium } from '../helpers/chromium';

const OPERATOR = '/api/v1/operators/image-search';
const OTHER_KEY = 'team-b';

let gateway: Gateway;
let context: BrowserContext;
let page: Page;
const dirs: string[] = [];

async function createLibrary(name: string, key?: string): Promise<void> {
  const res = await fetch(`${gateway.url}${OPERATOR}/library/create`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ library_name: name, mode: 'general_search' }),
  });
  expect(res.status).toBe(200);
}

/** The names in the sidebar, in order. */
const libraryNames = () => page.locator('#library-list [data-library]').evaluateAll((bs) => bs.map((b: any) => b.dataset.library as string));

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-console-open-'));
  dirs.push(dataDir);
  const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {});
  expect(settings.gateway.auth.mode).toBe('open'); // no config file: what `npm start` runs
  gateway = await startGateway(settings, pino({ level: 'silent' }));
  await createLibrary('default-shelf');
  await createLibrary('team-b-shelf', OTHER_KEY);
  const browser = await launchChromium();
  ({ context, page } = browser);
  dirs.push(browser.userDataDir);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await gateway?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('opens on the default tenant with its libraries and no sign-in step', async () => {
  await page.goto(`${gateway.url}/console`);
  await page.locator('#library-list [data-library="default-shelf"]').waitFor();
  expect(await page.isVisible('#sign-in')).toBe(false);
  expect(await page.isVisible('#sign-out')).toBe(false);
  expect(await page.textContent('#tenant-name')).toBe(OPEN_MODE_DEFAULT_TENANT);
  expect(await libraryNames()).toEqual(['default-shelf']);
});

test('the tenant switch shows another key\'s libraries, and an empty key goes back', async () => {
  await page.click('#switch-key');
  await page.locator('#sign-in').waitFor({ state: 'visible' });
  expect(await page.isVisible('#switch-help')).toBe(true);
  await page.fill('#api-key', OTHER_KEY);
  await page.click('#sign-in-form button[type=submit]');
  await page.locator('#library-list [data-library="team-b-shelf"]').waitFor();
  expect(await page.isVisible('#sign-in')).toBe(false);
  expect(await libraryNames()).toEqual(['team-b-shelf']);

  // A reload keeps the tab's key, as in verify mode.
  await page.reload();
  await page.locator('#library-list [data-library="team-b-shelf"]').waitFor();

  await page.click('#switch-key');
  await page.fill('#api-key', '');
  await page.click('#sign-in-form button[type=submit]');
  await page.locator('#library-list [data-library="default-shelf"]').waitFor();
  expect(await libraryNames()).toEqual(['default-shelf']);
  expect(await page.textContent('#tenant-name')).toBe(OPEN_MODE_DEFAULT_TENANT);
});
