/**
 * Every action of Alibaba Cloud Image Search (2020-12-14) as a route: the one table the OpenAPI document,
 * metrics, fault rules and migration read (adapters/vendor.ts VendorRoute). The API is RPC on "/", so a
 * route's path is written /?Action=<name> to tell the actions apart; the router dispatches on the action
 * (index.ts, operations.ts OPERATIONS). Searches are compared in shadow mode, writes replayed in order.
 */
import type { CallKind, VendorRoute } from '../vendor';
import { OPERATIONS } from './operations';

const WRITES = new Set(['AddImage', 'DeleteImage', 'UpdateImage', 'IncreaseInstance']);

function kindOf(action: string): CallKind {
  return action.startsWith('SearchImageBy') ? 'search' : WRITES.has(action) ? 'write' : 'other';
}

export const ROUTES: readonly VendorRoute[] = Object.keys(OPERATIONS).map((action) => ({
  operation: action,
  method: 'post',
  path: `/?Action=${action}`,
  schema: action,
  summary: action,
  body: 'form',
  kind: kindOf(action),
}));

/** What migration does with a call of this action (unknown actions: other). */
export function callKind(action: string): CallKind {
  return ROUTES.find((r) => r.operation === action)?.kind ?? 'other';
}
