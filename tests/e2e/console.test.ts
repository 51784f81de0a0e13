/**
 * The web console end to end in headless Chromium (Debian's chromium, driven by playwright-core): sign in
 * with an operator API key in verify mode, create a library on the tiny CLIP model, upload several images
 * by drag and drop (with progress rows and tags), browse the thumbnail grid, filter by tags, search by
 * dropping an image and by typing text. Screenshots are written to a temp folder whose path is printed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';
import { launchChromium } from '../helpers/chromium';
import { makeModelsDir, TINY_CLIP } from '../helpers/clip-models';
import { productImage } from '../helpers/product-images';

const API_KEY = 'console-test-key-1';

let gateway: Gateway;
let context: BrowserContext;
let page: Page;
const dirs: string[] = [];
const shots = path.join(os.tmpdir(), 'isg-console-screenshots');

interface DropFile {
  name: string;
  mime: string;
  b64: string;
}

async function jpeg(name: string, colour: string, shape: 'circle' | 'square' | 'triangle'): Promise<DropFile> {
  return { name, mime: 'image/jpeg', b64: (await productImage(colour, shape)).toString('base64') };
}

/** Drops files on an element as a user's drag and drop does: a DataTransfer with File objects. */
async function drop(selector: string, files: DropFile[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const w = globalThis as any; // runs in the page
    const dt = new w.DataTransfer();
    for (const f of list) dt.items.add(new w.File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.mime }));
    return dt;
  }, files);
  await page.dispatchEvent(selector, 'dragover', { dataTransfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

async function screenshot(name: string): Promise<string> {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`console screenshot: ${file}`);
  return file;
}

/**
 * Waits until `selector` matches exactly `n` elements. A function, not a string: the console's
 * Content-Security-Policy forbids evaluating strings in the page.
 */
const until = (selector: string, n: number) =>
  page.waitForFunction(([s, count]) => (globalThis as any).document.querySelectorAll(s).length === count, [selector, n] as const);

/** Ids of the tiles of a grid, in order. */
const tileIds = (grid: string) => page.locator(`${grid} .tile`).evaluateAll((tiles) => tiles.map((t: any) => t.dataset.imageId as string));

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-console-'));
  const modelsDir = makeModelsDir();
  dirs.push(dataDir, modelsDir);
  mkdirSync(shots, { recursive: true });
  const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {});
  settings.modelsDir = modelsDir;
  settings.gateway.auth = { mode: 'verify', tenants: [{ id: 'acme', operator: { apiKeys: [API_KEY] } }] };
  gateway = await startGateway(settings, pino({ level: 'silent' }));
  const browser = await launchChromium();
  ({ context, page } = browser);
  dirs.push(browser.userDataDir);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await gateway?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a wrong key is refused; the tenant key signs in', async () => {
  await page.goto(`${gateway.url}/console`);
  await page.fill('#api-key', 'not-a-key');
  await page.click('#sign-in-form button[type=submit]');
  await page.locator('#sign-in-error').waitFor({ state: 'visible' });
  expect(await page.textContent('#sign-in-error')).toContain('not valid');

  await page.fill('#api-key', API_KEY);
  await page.click('#sign-in-form button[type=submit]');
  await page.locator('#app').waitFor({ state: 'visible' });
  expect(await page.textContent('#tenant-name')).toBe('acme');
  expect(await page.locator('#new-model option').allTextContents()).toEqual(['default (image)', `${TINY_CLIP} (image + text)`]);
});

test('create a library, upload by drag and drop with tags, browse thumbnails with counts', async () => {
  await page.click('#new-library summary');
  await page.fill('#new-name', 'catalog');
  await page.selectOption('#new-model', TINY_CLIP);
  await page.click('#new-library-form button[type=submit]');
  await page.locator('#library-view').waitFor({ state: 'visible' });
  expect(await page.textContent('#library-title')).toBe('catalog');

  await page.fill('#upload-tags', 'color=red, size=40');
  await drop('#upload-zone', [await jpeg('red-circle.jpg', '#d01010', 'circle'), await jpeg('red-square.jpg', '#c81414', 'square')]);
  await page.locator('#uploads .state.done').nth(1).waitFor();
  await page.fill('#upload-tags', 'shelf=b2, size=42');
  await drop('#upload-zone', [await jpeg('blue-circle.jpg', '#1f4fd0', 'circle'), await jpeg('green-triangle.jpg', '#10b020', 'triangle')]);
  await page.locator('#uploads .state.done').nth(3).waitFor();
  expect(await page.locator('#uploads progress').evaluateAll((ps) => ps.map((p: any) => p.value as number))).toEqual([1, 1, 1, 1]);

  await until('#image-grid .tile img', 4);
  // Every thumbnail decoded (a real JPEG from /_gateway/console/thumbnail).
  const widths = await page.locator('#image-grid .tile img').evaluateAll((imgs) => Promise.all(imgs.map((i: any) => i.decode().then(() => i.naturalWidth as number))));
  expect(widths.every((w) => w > 0 && w <= 320)).toBe(true);
  expect((await tileIds('#image-grid')).sort()).toEqual(['blue-circle.jpg', 'green-triangle.jpg', 'red-circle.jpg', 'red-square.jpg']);
  expect(await page.locator('[data-library="catalog"] .count').textContent()).toBe('4');
  expect(await page.locator('#image-grid [data-image-id="blue-circle.jpg"] .tag').allTextContents()).toEqual(['shelf: b2', 'size: 42']);
  await screenshot('browse');
});

test('filter by tags: typed, and by clicking a tag', async () => {
  await page.fill('#tag-filter', 'size>=41');
  await page.click('#apply-filter');
  await until('#image-grid .tile', 2);
  expect((await tileIds('#image-grid')).sort()).toEqual(['blue-circle.jpg', 'green-triangle.jpg']);

  await page.click('#clear-filter');
  await until('#image-grid .tile', 4);
  await page.locator('#image-grid [data-image-id="red-square.jpg"] .tag', { hasText: 'color: red' }).click();
  await until('#image-grid .tile', 2);
  expect((await tileIds('#image-grid')).sort()).toEqual(['red-circle.jpg', 'red-square.jpg']);
  expect(await page.inputValue('#tag-filter')).toBe('color=red');
  await page.click('#clear-filter');
  await until('#image-grid .tile', 4);
});

test('search by dropping an image: the same picture first, with scores and tags', async () => {
  await page.click('#tab-search');
  await drop('#query-zone', [await jpeg('query.jpg', '#1f4fd0', 'circle')]);
  await until('#result-grid .tile', 4);
  const ids = await tileIds('#result-grid');
  expect(ids[0]).toBe('blue-circle.jpg');
  const scores = (await page.locator('#result-grid .score .value').allTextContents()).map(Number);
  expect(scores[0]).toBeGreaterThan(0.99);
  expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  expect(await page.locator('#result-grid .tile').first().locator('.tag').allTextContents()).toEqual(['shelf: b2', 'size: 42']);
});

test('search by text on a model with a text tower; a tag filter narrows the results', async () => {
  expect(await page.isEnabled('#query-text')).toBe(true);
  await page.fill('#query-text', 'a green shape');
  await page.click('#text-search-button');
  await page.locator('#result-grid .tile').first().and(page.locator('[data-image-id="green-triangle.jpg"]')).waitFor();
  await until('#result-grid .tile', 4);
  await until('#result-grid .tile img', 4);
  await screenshot('search-text');

  await page.fill('#tag-filter', 'color=red');
  await page.click('#apply-filter');
  await until('#result-grid .tile', 2);
  expect((await tileIds('#result-grid')).sort()).toEqual(['red-circle.jpg', 'red-square.jpg']);
  await page.click('#clear-filter');
});

test('a library on a model without a text tower offers image search only', async () => {
  await page.click('#new-library summary');
  await page.fill('#new-name', 'plain');
  await page.selectOption('#new-model', 'default');
  await page.click('#new-library-form button[type=submit]');
  await page.locator('#library-title', { hasText: /^plain$/ }).waitFor();
  expect(await page.isDisabled('#query-text')).toBe(true);
  expect(await page.textContent('#text-hint')).toContain('no text encoder');
});
