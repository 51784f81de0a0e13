/**
 * OpenAPI 3.1 documents of the four vendor APIs (and the control plane), generated from schemas/: every
 * request schema is embedded as the operation's request body, so the documents say exactly what the
 * gateway validates. Which schema belongs to which route is the table below; tests check it against the
 * schemas folder and each adapter's operation list, so neither can drift from it unnoticed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Vendor } from '../http/observe';

/** schemas/ beside adapters/: the source tree, or dist/schemas (tsc emits the JSON files the code imports). */
export const SCHEMAS_DIR = path.resolve(__dirname, '../../schemas');

export type DocName = Vendor | 'gateway';

interface Route {
  /** The adapter's operation name (request log, metrics, fault rules). */
  operation: string;
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  /** schemas/<vendor>/<schema>.json, when the request has a body (or form parameters). */
  schema?: string;
  summary: string;
  /** Where the body goes: JSON (default) or an Alibaba form. */
  body?: 'json' | 'form';
}

const ALIBABA_ACTIONS = [
  'AddImage', 'DeleteImage', 'UpdateImage', 'SearchImageByPic', 'SearchImageByName', 'SearchImageByText', 'SearchImageByFilter',
  'CompareSimilarByImage', 'Detail', 'DumpMeta', 'DumpMetaList', 'IncreaseInstance', 'IncreaseList', 'CheckImageExists',
] as const;

export const DOCS: Record<DocName, { title: string; description: string; server: string; routes: Route[] }> = {
  operator: {
    title: 'Operator image search API (AnalyticDB style)',
    description: 'Authorization: Bearer <API key> (verify mode). Envelope {"status","message","data"}. docs/compatibility/operator.md.',
    server: '/api/v1/operators/image-search',
    routes: [
      { operation: 'search/by-image', method: 'post', path: '/search/by-image', schema: 'search-by-image', summary: 'Search a library by an image' },
      { operation: 'search/by-text', method: 'post', path: '/search/by-text', schema: 'search-by-text', summary: 'Search a library by text (models with a text tower)' },
      { operation: 'image/add', method: 'post', path: '/image/add', schema: 'image-add', summary: 'Add or overwrite an image' },
      { operation: 'image/delete', method: 'post', path: '/image/delete', schema: 'image-delete', summary: 'Delete images by image_id (and image_uri)' },
      { operation: 'image/list', method: 'post', path: '/image/list', schema: 'image-list', summary: 'List images (cursor, tag_filter)' },
      { operation: 'image/tasks/create', method: 'post', path: '/image/tasks/create', schema: 'image-tasks-create', summary: 'Start a batch import from a JSON-lines file' },
      { operation: 'image/tasks/results', method: 'get', path: '/image/tasks/results/{task_id}', summary: 'Progress and per-line results of an import task' },
      { operation: 'library/create', method: 'post', path: '/library/create', schema: 'library-create', summary: 'Create a library' },
      { operation: 'library/list', method: 'post', path: '/library/list', schema: 'library-list', summary: 'List libraries with counts and models' },
      { operation: 'library/describe', method: 'post', path: '/library/describe', schema: 'library-describe', summary: 'Describe a library' },
      { operation: 'library/delete', method: 'post', path: '/library/delete', schema: 'library-delete', summary: 'Delete a library and its images' },
    ],
  },
  huawei: {
    title: 'Huawei Cloud ImageSearch v1',
    description: 'SDK-HMAC-SHA256 (AK/SK) or X-Auth-Token from the emulated IAM. docs/compatibility/huawei.md.',
    server: '/',
    routes: [
      { operation: 'iamTokens', method: 'post', path: '/v3/auth/tokens', schema: 'iam-auth-tokens', summary: 'Issue an IAM token (X-Subject-Token)' },
      { operation: 'createInstance', method: 'post', path: '/v1/{project_id}/service', schema: 'instance-create', summary: 'Create an instance' },
      { operation: 'queryInstance', method: 'get', path: '/v1/{project_id}/service/{instance_name}', summary: 'Query an instance' },
      { operation: 'deleteInstance', method: 'delete', path: '/v1/{project_id}/service/{instance_name}', summary: 'Delete an instance' },
      { operation: 'addPicture', method: 'post', path: '/v1/{project_id}/{instance_name}/image', schema: 'picture-add', summary: 'Add a picture' },
      { operation: 'modifyPicture', method: 'put', path: '/v1/{project_id}/{instance_name}/image', schema: 'picture-modify', summary: 'Modify a picture\'s tags' },
      { operation: 'deletePicture', method: 'delete', path: '/v1/{project_id}/{instance_name}/image', schema: 'picture-delete', summary: 'Delete pictures (JSON body)' },
      { operation: 'searchPicture', method: 'post', path: '/v1/{project_id}/{instance_name}/image/search', schema: 'picture-search', summary: 'Search pictures' },
      { operation: 'checkPicture', method: 'post', path: '/v1/{project_id}/{instance_name}/image/check', schema: 'picture-check', summary: 'Check whether a picture is indexed' },
    ],
  },
  alibaba: {
    title: 'Alibaba Cloud Image Search (2020-12-14)',
    description:
      'RPC on POST / with x-acs-action and x-acs-version: 2020-12-14 (ACS3-HMAC-SHA256), or Action and Version in the query (V1 HMAC-SHA1). Parameters in the query or a form body. The paths below are written /?Action=<name> to tell the actions apart. docs/compatibility/alibaba.md.',
    server: '/',
    routes: ALIBABA_ACTIONS.map((action) => ({ operation: action, method: 'post' as const, path: `/?Action=${action}`, schema: action, summary: action, body: 'form' as const })),
  },
  qiniu: {
    title: 'Qiniu 以图搜图 (image groups)',
    description: 'Authorization: Qiniu <AK>:<sign> (or QBox). Errors {"error": message} with the HTTP status as the code. docs/compatibility/qiniu.md.',
    server: '/v1/image',
    routes: [
      { operation: 'groupNew', method: 'post', path: '/group/{group}/new', schema: 'images-add', summary: 'Create a group with images' },
      { operation: 'groupRemove', method: 'post', path: '/group/{group}/remove', summary: 'Remove a group' },
      { operation: 'imagesAdd', method: 'post', path: '/group/{group}/add', schema: 'images-add', summary: 'Add images to a group' },
      { operation: 'imagesDelete', method: 'post', path: '/group/{group}/delete', schema: 'images-delete', summary: 'Delete images from a group' },
      { operation: 'groupList', method: 'get', path: '/group', summary: 'List groups' },
      { operation: 'groupInfo', method: 'get', path: '/group/{group}/info', summary: 'Group information' },
      { operation: 'imagesList', method: 'get', path: '/group/{group}', summary: 'List the images of a group' },
      { operation: 'imageInfo', method: 'post', path: '/group/{group}/image', schema: 'image-info', summary: 'Image information' },
      { operation: 'groupsSearch', method: 'post', path: '/groups/search', schema: 'groups-search', summary: 'Search several groups' },
      { operation: 'groupSearch', method: 'post', path: '/group/{group}/search', schema: 'group-search', summary: 'Search one group (legacy)' },
    ],
  },
  gateway: {
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
  },
};

function readSchema(doc: DocName, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(SCHEMAS_DIR, doc, `${name}.json`), 'utf8'));
}

/** A schema as an OpenAPI component: no $schema/$id; its refs pointed at components. */
function component(schema: Record<string, unknown>, name: string): unknown {
  const { $schema: _s, $id: _i, ...rest } = schema;
  const text = JSON.stringify(rest)
    .replace(/"\$ref":"#\/definitions\//g, `"$ref":"#/components/schemas/${name}/definitions/`)
    .replace(/"\$ref":"alibaba-common#\/definitions\//g, `"$ref":"#/components/schemas/_common/definitions/`);
  return JSON.parse(text);
}

const cache = new Map<DocName, object>();

/** The OpenAPI document of one API. */
export function openApiDocument(doc: DocName): object {
  const cached = cache.get(doc);
  if (cached) return cached;
  const spec = DOCS[doc];
  const schemas: Record<string, unknown> = {};
  if (doc === 'alibaba') schemas._common = component(readSchema('alibaba', '_common'), '_common');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of spec.routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const operation: Record<string, unknown> = { operationId: route.operation, summary: route.summary, responses: { default: { description: 'The vendor\'s answer (see the compatibility page).' } } };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.schema) {
      const name = `${route.schema}`;
      schemas[name] ??= component(readSchema(doc, route.schema), name);
      const media = route.body === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
      operation.requestBody = { required: route.method !== 'delete' || doc === 'huawei', content: { [media]: { schema: { $ref: `#/components/schemas/${name}` } } } };
      const description = (readSchema(doc, route.schema).description as string | undefined) ?? undefined;
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
  cache.set(doc, document);
  return document;
}
