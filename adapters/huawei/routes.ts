/**
 * Every route of Huawei Cloud ImageSearch v1, and the emulated IAM token route: the one table the router,
 * the OpenAPI document, metrics, fault rules and migration read (adapters/vendor.ts VendorRoute). An
 * operation's name is its function's name in operations.ts; the JSON body is read when the route has a schema.
 */
import type { VendorRoute } from '../vendor';
import * as ops from './operations';

export const IAM_TOKENS_PATH = '/v3/auth/tokens';

export interface HuaweiRoute extends VendorRoute {
  /** Absent: the IAM route, which index.ts answers itself. */
  run?: (call: ops.Call) => Promise<unknown>;
}

export const IAM_ROUTE: HuaweiRoute = { operation: 'iamTokens', method: 'post', path: IAM_TOKENS_PATH, schema: 'iam-auth-tokens', summary: 'Issue an IAM token (X-Subject-Token)', faults: false };

export const ROUTES: readonly HuaweiRoute[] = [
  IAM_ROUTE,
  { operation: 'createInstance', method: 'post', path: '/v1/{project_id}/service', schema: 'instance-create', summary: 'Create an instance', kind: 'write', run: ops.createInstance },
  { operation: 'queryInstance', method: 'get', path: '/v1/{project_id}/service/{instance_name}', summary: 'Query an instance', run: ops.queryInstance },
  { operation: 'deleteInstance', method: 'delete', path: '/v1/{project_id}/service/{instance_name}', summary: 'Delete an instance', kind: 'write', run: ops.deleteInstance },
  { operation: 'addPicture', method: 'post', path: '/v1/{project_id}/{instance_name}/image', schema: 'picture-add', summary: 'Add a picture', kind: 'write', run: ops.addPicture },
  { operation: 'modifyPicture', method: 'put', path: '/v1/{project_id}/{instance_name}/image', schema: 'picture-modify', summary: "Modify a picture's tags", kind: 'write', run: ops.modifyPicture },
  { operation: 'deletePicture', method: 'delete', path: '/v1/{project_id}/{instance_name}/image', schema: 'picture-delete', summary: 'Delete pictures (JSON body)', bodyRequired: true, kind: 'write', run: ops.deletePicture },
  { operation: 'searchPicture', method: 'post', path: '/v1/{project_id}/{instance_name}/image/search', schema: 'picture-search', summary: 'Search pictures', kind: 'search', run: ops.searchPicture },
  { operation: 'checkPicture', method: 'post', path: '/v1/{project_id}/{instance_name}/image/check', schema: 'picture-check', summary: 'Check whether a picture is indexed', run: ops.checkPicture },
];
