/**
 * OpenAPI 3.1 documents of the vendor APIs (and the control plane), generated from each adapter's route
 * table (adapters/vendor.ts) and schemas/: every request schema is embedded as the operation's request body,
 * so the documents say exactly what the gateway validates. Tests check the tables against the schemas
 * folder and each adapter's operation list, so neither can drift unnoticed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { VendorAdapter, VendorDocs, VendorRoute } from '../vendor';
import { VENDORS } from '../vendors';

/** schemas/ beside adapters/: the source tree, or dist/schemas (tsc emits the JSON files the code imports). */
export const SCHEMAS_DIR = path.resolve(__dirname, '../../schemas');

/** A vendor's name, or the control plane's document. */
export type DocName = string;

export interface ApiDocument extends VendorDocs {
  routes: readonly VendorRoute[];
  /** Where the schemas the routes name are. */
  schemaDir: string;
}

/** The control plane's own document. */
const GATEWAY: ApiDocument = {
  schemaDir: path.join(SCHEMAS_DIR, 'gateway'),
  title: 'image-search-gateway control plane',
  description: 'Health, reset, request log and fault injection for test suites; adapters/control/README.md.',
  server: '/_gateway',
  routes: [
    { operation: 'health', method: 'get', path: '/health', summary: 'Liveness' },
    { operation: 'ready', method: 'get', path: '/ready', summary: 'Readiness' },
    { operation: 'reset', method: 'post', path: '/state/reset', schema: 'reset', summary: 'Reset all tenants or one' },
    { operation: 'requests', method: 'get', path: '/requests', summary: 'Recent requests per vendor (?vendor=&operation=&tenant=&limit=)' },
    { operation: 'requestsClear', method: 'delete', path: '/requests', summary: 'Forget the request log' },
    { operation: 'faults', method: 'get', path: '/faults', summary: 'Fault rules and each vendor\'s codes and operations' },
    { operation: 'faultAdd', method: 'post', path: '/faults', schema: 'fault', summary: 'Add a fault rule' },
    { operation: 'faultsClear', method: 'delete', path: '/faults', summary: 'Remove every fault rule' },
    { operation: 'faultRemove', method: 'delete', path: '/faults/{id}', summary: 'Remove one fault rule' },
  ],
};

/** The documents of a vendor list and the control plane, by name (in list order, the control plane last). */
export function documentsOf(vendors: readonly VendorAdapter[]): Record<DocName, ApiDocument> {
  const docs: Record<DocName, ApiDocument> = {};
  for (const v of vendors) docs[v.name] = { ...v.docs, routes: v.routes, schemaDir: v.schemaDir ?? path.join(SCHEMAS_DIR, v.name) };
  docs.gateway = GATEWAY;
  return docs;
}

/** The documents of the gateway's vendor list (adapters/vendors.ts). */
export const DOCS = documentsOf(VENDORS);

function readSchema(spec: ApiDocument, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(spec.schemaDir, `${name}.json`), 'utf8'));
}

/** A schema as an OpenAPI component: no $schema/$id; its refs (and refs to the shared schema) pointed at components. */
function component(schema: Record<string, unknown>, name: string, common: VendorDocs['common']): unknown {
  const { $schema: _s, $id: _i, ...rest } = schema;
  let text = JSON.stringify(rest).replace(/"\$ref":"#\/definitions\//g, `"$ref":"#/components/schemas/${name}/definitions/`);
  if (common) text = text.split(`"$ref":"${common.id}#/definitions/`).join(`"$ref":"#/components/schemas/${common.schema}/definitions/`);
  return JSON.parse(text);
}

const cache = new WeakMap<ApiDocument, object>();

/** The OpenAPI document of one API (a value of DOCS or of documentsOf). */
export function openApiDocument(spec: ApiDocument): object {
  const cached = cache.get(spec);
  if (cached) return cached;
  const schemas: Record<string, unknown> = {};
  if (spec.common) schemas[spec.common.schema] = component(readSchema(spec, spec.common.schema), spec.common.schema, spec.common);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of spec.routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const operation: Record<string, unknown> = { operationId: route.operation, summary: route.summary, responses: { default: { description: 'The vendor\'s answer (see the compatibility page).' } } };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.schema) {
      const name = `${route.schema}`;
      const schema = readSchema(spec, route.schema);
      schemas[name] ??= component(schema, name, spec.common);
      const media = route.body === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
      operation.requestBody = { required: route.bodyRequired ?? route.method !== 'delete', content: { [media]: { schema: { $ref: `#/components/schemas/${name}` } } } };
      const description = (schema.description as string | undefined) ?? undefined;
      if (description) operation.description = description;
    }
    (paths[route.path] ??= {})[route.method] = operation;
  }
  const document = {
    openapi: '3.1.0',
    info: { title: spec.title, description: spec.description, version: 'image-search-gateway' },
    servers: [{ url: spec.server }],
    paths,
    components: { schemas },
  };
  cache.set(spec, document);
  return document;
}
