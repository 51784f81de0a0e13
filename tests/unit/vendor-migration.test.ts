/**
 * Each adapter's migration hooks agree with its route table (adapters/vendor.ts): a request of a search or
 * write route is owned by that vendor (the first in list order to claim it) and classified with the route's
 * kind; no other vendor's hooks need to know it. The requests are built from the tables themselves.
 */
import type { Request } from 'express';
import { VENDORS } from '../../adapters/vendors';
import type { VendorAdapter, VendorRoute } from '../../adapters/vendor';

/** A request of a route as the migration layer sees it (method, path, headers; the body apart). */
function requestOf(vendor: VendorAdapter, route: VendorRoute): { req: Request; body: Buffer | undefined } {
  const server = vendor.docs.server === '/' ? '' : vendor.docs.server;
  const [pathPart, query] = route.path.replace(/\{\w+\}/g, 'probe').split('?');
  const path = `${server}${pathPart}`;
  const url = query === undefined ? path : `${path}?${query}`;
  const headers: Record<string, string> = route.body === 'form' ? { 'content-type': 'application/x-www-form-urlencoded' } : route.method === 'get' ? {} : { 'content-type': 'application/json' };
  const req = { method: route.method.toUpperCase(), path, url, originalUrl: url, headers, rawHeaders: Object.entries(headers).flat() } as unknown as Request;
  return { req, body: route.method === 'get' ? undefined : Buffer.from(route.body === 'form' ? '' : '{}') };
}

const migrated = VENDORS.flatMap((vendor) => vendor.routes.filter((r) => r.kind !== undefined).map((route) => [vendor.name, route.operation, vendor, route] as const));

test('the tables have searches and writes to check', () => {
  expect(migrated.filter(([, , , r]) => r.kind === 'search').length).toBeGreaterThanOrEqual(VENDORS.length);
  expect(migrated.filter(([, , , r]) => r.kind === 'write').length).toBeGreaterThanOrEqual(VENDORS.length);
});

test.each(migrated)('%s %s: owned by its vendor and classified as its route says', (_name, _operation, vendor, route) => {
  const { req, body } = requestOf(vendor, route);
  expect(VENDORS.find((v) => v.owns(req))?.name).toBe(vendor.name);
  expect(vendor.migration.classify(req, body).kind).toBe(route.kind);
});
