/**
 * Every route of Qiniu 以图搜图 below /v1/image, in the order of the vendor's table: the one table the
 * router, the OpenAPI document, metrics, fault rules and migration read (adapters/vendor.ts VendorRoute).
 * An operation's name is its function's name in operations.ts.
 */
import type { VendorRoute } from '../vendor';
import * as ops from './operations';

export interface QiniuRoute extends VendorRoute {
  method: 'get' | 'post';
  run: (call: ops.Call) => Promise<unknown>;
}

export const ROUTES: readonly QiniuRoute[] = [
  { operation: 'groupNew', method: 'post', path: '/group/{group}/new', schema: 'images-add', summary: 'Create a group with images', kind: 'write', run: ops.groupNew },
  { operation: 'groupRemove', method: 'post', path: '/group/{group}/remove', summary: 'Remove a group', kind: 'write', run: ops.groupRemove },
  { operation: 'imagesAdd', method: 'post', path: '/group/{group}/add', schema: 'images-add', summary: 'Add images to a group', kind: 'write', run: ops.imagesAdd },
  { operation: 'imagesDelete', method: 'post', path: '/group/{group}/delete', schema: 'images-delete', summary: 'Delete images from a group', kind: 'write', run: ops.imagesDelete },
  { operation: 'groupList', method: 'get', path: '/group', summary: 'List groups', run: ops.groupList },
  { operation: 'groupInfo', method: 'get', path: '/group/{group}/info', summary: 'Group information', run: ops.groupInfo },
  { operation: 'imagesList', method: 'get', path: '/group/{group}', summary: 'List the images of a group', run: ops.imagesList },
  { operation: 'imageInfo', method: 'post', path: '/group/{group}/image', schema: 'image-info', summary: 'Image information', run: ops.imageInfo },
  { operation: 'groupsSearch', method: 'post', path: '/groups/search', schema: 'groups-search', summary: 'Search several groups', kind: 'search', run: ops.groupsSearch },
  { operation: 'groupSearch', method: 'post', path: '/group/{group}/search', schema: 'group-search', summary: 'Search one group (legacy)', kind: 'search', run: ops.groupSearch },
];
