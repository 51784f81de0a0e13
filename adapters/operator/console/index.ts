/**
 * The web console: static files at /console (plain HTML, CSS and JS in public/, no build step) and the
 * few read endpoints it needs beyond the operator API, under /_gateway/console:
 *   GET /_gateway/console/session     the caller's tenant, and which models can search by text
 *   GET /_gateway/console/thumbnail   ?library=&image_id=&image_uri= → a JPEG of at most 320 px a side
 * The console signs in with an operator API key (Authorization: Bearer, as the operator API) in verify mode;
 * in open mode it opens on the default tenant at once (any key names a tenant, none the default one). Everything
 * else (libraries, upload, browse, search, tag filters) goes through the operator API itself.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { Engine } from '../../../core/engine';
import type { ImageRecord, LibraryRef } from '../../../core/records';

export interface ConsoleDeps {
  engine: Engine;
  log: Logger;
  /** The operator API's credential check: Authorization header → tenant, or undefined to refuse. */
  tenantOf: (authorization: string | undefined) => string | undefined;
  /** The gateway's auth mode: in open mode the page opens on the default tenant without a sign-in step. */
  authMode: 'open' | 'verify';
  /** The operator API's key mapping, so thumbnails are addressed by the keys the console shows. */
  keys: {
    imageKey: (imageId: string, imageUri: string) => string;
    operatorKeys: (record: ImageRecord) => { image_id: string; image_uri: string };
  };
}

export const CONSOLE_PATH = '/console';
export const THUMBNAIL_MAX_SIDE = 320;

/** public/ beside this file, or in the source tree when running from dist/ (tsc copies no assets). */
function publicDir(): string {
  const here = path.join(__dirname, 'public');
  return existsSync(here) ? here : path.resolve(__dirname, '../../../../adapters/operator/console/public');
}

/** The console's pages load nothing from elsewhere; images are blob: URLs made from authenticated fetches. */
const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

export function consoleRouter(deps: ConsoleDeps): Router {
  const router = Router();

  router.use(CONSOLE_PATH, (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  router.get(CONSOLE_PATH, (req, res, next) => (req.originalUrl === CONSOLE_PATH ? res.redirect(301, `${CONSOLE_PATH}/`) : next()));
  const files = publicDir();
  if (existsSync(files)) router.use(CONSOLE_PATH, express.static(files, { index: 'index.html', fallthrough: true, maxAge: 0 }));
  else deps.log.warn({ dir: files }, 'console files not found: /console is not served (copy adapters/operator/console/public beside dist)');

  const api = Router();
  api.use((req, res, next) => {
    const tenant = deps.tenantOf(req.headers.authorization);
    if (tenant === undefined) return void res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'A valid operator API key is required.' } });
    res.locals.tenant = tenant;
    next();
  });

  api.get('/session', async (_req, res) => {
    res.json({ tenant: res.locals.tenant, auth: deps.authMode, models: await deps.engine.describeModels() });
  });

  api.get('/thumbnail', async (req: Request, res: Response) => {
    const q = req.query as Record<string, unknown>;
    const library = typeof q.library === 'string' ? q.library : '';
    const imageId = typeof q.image_id === 'string' ? q.image_id : '';
    const imageUri = typeof q.image_uri === 'string' ? q.image_uri : '';
    if (!library || !imageId) return void res.status(400).json({ error: { code: 'INVALID_ARGUMENT', message: 'library and image_id are required' } });
    try {
      const ref = { tenant: res.locals.tenant as string, name: library };
      const record = await findRecord(deps, ref, imageId, imageUri);
      const bytes = record?.hasImage ? await deps.engine.getImageBytes(ref, record.id) : undefined;
      if (!bytes) return void res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no stored image (add it with save_image to see it here)' } });
      const jpeg = await sharp(bytes, { limitInputPixels: 100_000_000 })
        .rotate()
        .resize(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 80 })
        .toBuffer();
      res.status(200).setHeader('Cache-Control', 'private, max-age=60').type('image/jpeg').send(jpeg);
    } catch (e) {
      const kind = (e as { kind?: string }).kind;
      if (kind === 'not_found') return void res.status(404).json({ error: { code: 'NOT_FOUND', message: (e as Error).message } });
      deps.log.warn({ err: e, reqId: req.id }, 'console thumbnail failed');
      res.status(500).json({ error: { code: 'INTERNAL', message: 'The thumbnail could not be made.' } });
    }
  });
  router.use('/_gateway/console', api);
  return router;
}

/** The record the operator keys (image_id, image_uri) name, whichever API added it. */
async function findRecord(deps: ConsoleDeps, ref: LibraryRef, imageId: string, imageUri: string): Promise<ImageRecord | undefined> {
  const candidates = [...new Set([deps.keys.imageKey(imageId, imageUri), imageUri, imageId].filter((id) => id !== ''))];
  const records = await deps.engine.getImages(ref, candidates);
  return records.find((r) => {
    const k = deps.keys.operatorKeys(r);
    return k.image_id === imageId && k.image_uri === imageUri;
  });
}
