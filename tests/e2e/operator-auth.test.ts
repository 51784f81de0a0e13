/** verify mode: Bearer API keys, tenants isolated from each other; open mode refuses malformed headers. */
import { PREFIX } from '../../adapters/operator/limits';
import { STATUS } from '../../adapters/operator/errors';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway';

describe('verify mode', () => {
  let gw: TestGateway;
  const as = (key: string | undefined, path: string, body: unknown) =>
    post(`${gw.url}${PREFIX}/${path}`, body, key === undefined ? {} : { authorization: `Bearer ${key}` });

  beforeAll(async () => {
    gw = await startTestGateway({
      auth: {
        mode: 'verify',
        tenants: [
          { id: 'acme', operator: { apiKeys: ['acme-key-1'] } },
          { id: 'globex', operator: { apiKeys: ['globex-key'] } },
        ],
      },
      libraries: [{ tenant: 'acme', name: 'demo', mode: 'general_search' }],
    });
  });
  afterAll(() => gw.destroy());

  test('no key, a wrong key or a malformed header is 401 in the envelope', async () => {
    for (const res of [await as(undefined, 'library/list', {}), await as('nope', 'library/list', {}), await post(`${gw.url}${PREFIX}/library/list`, {}, { authorization: 'Basic YTpi' })]) {
      expect([res.status, res.body.status, res.body.data]).toEqual([401, STATUS.unauthorized, null]);
    }
  });

  test('configured libraries exist at start; each tenant sees only its own', async () => {
    expect((await as('acme-key-1', 'library/list', {})).body.data.libraries.map((l: any) => l.library_name)).toEqual(['demo']);
    expect((await as('globex-key', 'library/list', {})).body.data.libraries).toEqual([]);
    const other = await as('globex-key', 'library/describe', { library_name: 'demo' });
    expect([other.status, other.body.status]).toEqual([404, STATUS.libraryNotFound]);
    expect((await as('globex-key', 'library/create', { library_name: 'demo', mode: 'item_search' })).status).toBe(200);
    expect((await as('acme-key-1', 'library/describe', { library_name: 'demo' })).body.data.mode).toBe('general_search');
  });
});

describe('open mode', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.destroy());

  test('no key is the default tenant; a key names its tenant; a malformed header is refused', async () => {
    await post(`${gw.url}${PREFIX}/library/create`, { library_name: 'mine', mode: 'general_search' });
    const anon = await post(`${gw.url}${PREFIX}/library/list`, {});
    expect(anon.body.data.libraries.map((l: any) => l.library_name)).toEqual(['mine']);
    const keyed = await post(`${gw.url}${PREFIX}/library/list`, {}, { authorization: 'Bearer someone-else' });
    expect(keyed.body.data.libraries).toEqual([]);
    const malformed = await post(`${gw.url}${PREFIX}/library/list`, {}, { authorization: 'Bearer' });
    expect(malformed.status).toBe(401);
  });
});
