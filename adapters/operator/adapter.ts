/**
 * The operator API (AnalyticDB style) as a vendor adapter (adapters/vendor.ts): its routes under
 * /api/v1/operators/image-search, Bearer-key auth, the batch-import task, and the web console
 * (console/, which speaks this API and signs in with its keys).
 */
import { Router, type Request } from 'express';
import { underPrefix, type VendorAdapter, type VendorContext } from '../vendor';
import { identify } from './auth';
import { consoleRouter } from './console';
import { FAULT_CATALOG, NAME, operatorRouter } from './index';
import { importTaskHandler, IMPORT_TASK_KIND } from './import-task';
import { IMPORT_READER } from './import-reader';
import { imageKey, operatorKeys } from './keys';
import { IMAGE_LIMITS, IMPORT_FILE_MAX_BYTES, PICTURE_FIELDS, PREFIX } from './limits';
import { MIGRATION } from './migration';
import { OPERATOR_PARITY } from './parity';
import { ROUTES } from './routes';

export const OPERATOR: VendorAdapter = {
  name: NAME,
  docs: {
    title: 'Operator image search API (AnalyticDB style)',
    description: 'Authorization: Bearer <API key> (verify mode). Envelope {"status","message","data"}. docs/compatibility/operator.md.',
    server: PREFIX,
  },
  routes: ROUTES,
  errors: FAULT_CATALOG,
  images: { limits: IMAGE_LIMITS, pictureFields: PICTURE_FIELDS },
  owns: underPrefix(PREFIX),
  migration: MIGRATION,
  importReader: IMPORT_READER,
  parity: OPERATOR_PARITY,
  mount(ctx: VendorContext) {
    const { engine, tasks, config, log, urls } = ctx;
    tasks.register(
      IMPORT_TASK_KIND,
      importTaskHandler(engine, {
        importDir: config.imports.dir,
        fetchImage: ctx.fetcher(config.fetch.maxBytes),
        fetchFile: ctx.fetcher(IMPORT_FILE_MAX_BYTES),
        urls,
      }),
    );
    const auth = (req: Request) => identify(config.auth, req.headers.authorization);
    const router = Router();
    router.use(
      consoleRouter({
        engine,
        log,
        tenantOf: (authorization) => {
          try {
            return identify(config.auth, authorization).tenant;
          } catch {
            return undefined;
          }
        },
        authMode: config.auth.mode,
        keys: { imageKey, operatorKeys },
      }),
    );
    router.use(PREFIX, operatorRouter({ engine, tasks, urls }, auth, log));
    return { router, authenticate: auth };
  },
};
