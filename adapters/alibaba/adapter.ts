/**
 * Alibaba Cloud Image Search (2020-12-14) as a vendor adapter (adapters/vendor.ts): RPC on "/", the OSS
 * side of the *Advance upload flow (its own TLS listener when alibaba.oss is configured), the DumpMeta and
 * IncreaseInstance tasks, files under <dataDir>/alibaba.
 */
import path from 'node:path';
import type { Request } from 'express';
import type { VendorAdapter, VendorContext } from '../vendor';
import { IMPORT_READER } from './import-reader';
import { alibabaRouter, authenticate, createAlibabaDeps, FAULT_CATALOG, NAME, requestKind, type OssAddress } from './index';
import { IMAGE_LIMITS } from './limits';
import { MIGRATION } from './migration';
import { ALIBABA_PARITY } from './parity';
import { ROUTES } from './routes';
import { DUMP_TASK_KIND, dumpTaskHandler, INCREMENT_TASK_KIND, incrementTaskHandler } from './tasks';

export const ALIBABA: VendorAdapter = {
  name: NAME,
  docs: {
    title: 'Alibaba Cloud Image Search (2020-12-14)',
    description:
      'RPC on POST / with x-acs-action and x-acs-version: 2020-12-14 (ACS3-HMAC-SHA256), or Action and Version in the query (V1 HMAC-SHA1). Parameters in the query or a form body. The paths below are written /?Action=<name> to tell the actions apart. docs/compatibility/alibaba.md.',
    server: '/',
    common: { schema: '_common', id: 'alibaba-common' },
  },
  routes: ROUTES,
  errors: FAULT_CATALOG,
  images: { limits: IMAGE_LIMITS },
  // RPC calls only: the *Advance uploads and the MetaUrl downloads are always the gateway's own.
  owns: (req) => requestKind(req) === 'rpc',
  migration: MIGRATION,
  importReader: IMPORT_READER,
  parity: ALIBABA_PARITY,
  mount(ctx: VendorContext) {
    const { engine, tasks, config } = ctx;
    const dirs = { outputDir: path.join(ctx.dataDir, NAME), importDir: config.imports.dir };
    tasks.register(DUMP_TASK_KIND, dumpTaskHandler(engine, dirs));
    tasks.register(INCREMENT_TASK_KIND, incrementTaskHandler(engine, dirs));
    const fetchImage = ctx.fetcher(Math.min(config.fetch.maxBytes, IMAGE_LIMITS.maxBytes!));
    const deps = createAlibabaDeps({ engine, tasks, dirs, fetchImage }, config.alibaba);
    let ossAddress: OssAddress | undefined;
    const router = alibabaRouter(deps, config.auth, ctx.log, { ossAddress: () => ossAddress });
    const oss = config.alibaba?.oss;
    return {
      router,
      // Who the caller is; the router claims the nonce when it serves the request (one claim per request).
      authenticate: (req: Request) => authenticate(config.auth, req, { now: Date.now() }),
      // The TLS listener the SDK's *Advance methods upload to (OSS PostObject on the same app).
      listeners: oss ? [{ section: `${NAME}.oss`, host: oss.host, port: oss.port, certFile: oss.certFile, keyFile: oss.keyFile, listening: (address) => (ossAddress = address) }] : [],
    };
  },
};
