/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` package driven by playwright-core
 * (no browser download here), with the flags that keep it quiet and off the network.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** A fresh browser profile in a temporary folder (returned so the caller removes it) and its first page. */
export async function launchChromium(): Promise<{ context: BrowserContext; page: Page; userDataDir: string }> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 860 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, userDataDir };
}
