/**
 * Every route of the operator API, below /api/v1/operators/image-search: the one table the router,
 * the OpenAPI document, metrics, fault rules and migration read (adapters/vendor.ts VendorRoute).
 * An operation's name is its path without parameters.
 */
import type { VendorRoute } from '../vendor';
import * as ops from './operations';

export interface OperatorRoute extends VendorRoute {
  method: 'get' | 'post';
  run: (call: ops.Call) => Promise<unknown>;
}

export const ROUTES: readonly OperatorRoute[] = [
  { operation: 'search/by-image', method: 'post', path: '/search/by-image', schema: 'search-by-image', summary: 'Search a library by an image', kind: 'search', run: ops.searchByImage },
  { operation: 'search/by-text', method: 'post', path: '/search/by-text', schema: 'search-by-text', summary: 'Search a library by text (models with a text tower)', kind: 'search', run: ops.searchByText },
  { operation: 'image/add', method: 'post', path: '/image/add', schema: 'image-add', summary: 'Add or overwrite an image', kind: 'write', run: ops.imageAdd },
  { operation: 'image/delete', method: 'post', path: '/image/delete', schema: 'image-delete', summary: 'Delete images by image_id (and image_uri)', kind: 'write', run: ops.imageDelete },
  { operation: 'image/list', method: 'post', path: '/image/list', schema: 'image-list', summary: 'List images (cursor, tag_filter)', run: ops.imageList },
  { operation: 'image/tasks/create', method: 'post', path: '/image/tasks/create', schema: 'image-tasks-create', summary: 'Start a batch import from a JSON-lines file', kind: 'write', run: ops.tasksCreate },
  { operation: 'image/tasks/results', method: 'get', path: '/image/tasks/results/{task_id}', summary: 'Progress and per-line results of an import task', run: ops.tasksResults },
  { operation: 'library/create', method: 'post', path: '/library/create', schema: 'library-create', summary: 'Create a library', kind: 'write', run: ops.libraryCreate },
  { operation: 'library/list', method: 'post', path: '/library/list', schema: 'library-list', summary: 'List libraries with counts and models', run: ops.libraryList },
  { operation: 'library/describe', method: 'post', path: '/library/describe', schema: 'library-describe', summary: 'Describe a library', run: ops.libraryDescribe },
  { operation: 'library/delete', method: 'post', path: '/library/delete', schema: 'library-delete', summary: 'Delete a library and its images', kind: 'write', run: ops.libraryDelete },
];
