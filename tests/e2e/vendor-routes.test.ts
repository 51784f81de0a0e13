/**
 * The route table of each vendor adapter (adapters/vendor.ts `routes`) is the one its router serves: every
 * route, requested with its method and path, is observed under that route's operation name (request log).
 * The OpenAPI documents, metrics, fault rules and migration read the same table, so none can name an
 * operation the router does not serve.
 */
import { VENDORS } from '../../adapters/vendors';
import type { VendorAdapter, VendorRoute } from '../../adapters/vendor';
import { get, startTestGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw.destroy();
});

/** The request of a route: path parameters named `probe`, an empty body of the route's kind. */
function requestOf(vendor: VendorAdapter, route: VendorRoute): { url: string; init: RequestInit } {
  const server = vendor.docs.server === '/' ? '' : vendor.docs.server;
  const [pathPart, query] = route.path.replace(/\{\w+\}/g, 'probe').split('?');
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (route.body === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = query ?? '';
  } else if (route.method !== 'get') {
    headers['content-type'] = 'application/json';
    body = '{}';
  }
  return { url: `${gw.url}${server}${pathPart}`, init: { method: route.method.toUpperCase(), headers, body } };
}

const cases = VENDORS.flatMap((vendor) => vendor.routes.map((route) => [vendor.name, route.operation, vendor, route] as const));

test.each(cases)('%s %s is served under its operation name', async (_name, _operation, vendor, route) => {
  const { url, init } = requestOf(vendor, route);
  const res = await fetch(url, init);
  await res.arrayBuffer();
  const logged = (await get(`${gw.url}/_gateway/requests?vendor=${vendor.name}&limit=1`)).body.requests;
  expect(logged.map((r: { operation?: string }) => r.operation)).toEqual([route.operation]);
});
