import http from 'node:http';
import https from 'node:https';
import { imageErrorOf } from '../helpers/image-errors';
import type { AddressInfo } from 'node:net';
import { ImageInvalidError } from '../../core/errors';
import { createUrlFetcher, isBlockedAddress } from '../../core/net/fetch';

const IMAGE = Buffer.alloc(1000, 7);
const BIG = Buffer.alloc(10_000, 1);

let server: http.Server;
let base: string; // http://127.0.0.1:<port>
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const redirect = (to: string) => {
      res.writeHead(302, { location: to });
      res.end();
    };
    switch (req.url) {
      case '/img':
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': IMAGE.length });
        res.end(IMAGE);
        return;
      case '/big':
        res.writeHead(200, { 'content-length': BIG.length });
        res.end(BIG);
        return;
      case '/big-chunked': // no Content-Length: the limit must hold while streaming
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write(BIG.subarray(0, 1000));
        res.end();
        return;
      case '/404':
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('SECRET-BODY-TEXT');
        return;
      case '/hang':
        return; // never answers
      case '/to-img':
        return redirect('/img');
      case '/to-private':
        return redirect('http://10.0.0.1/img');
      case '/to-metadata':
        return redirect('http://169.254.169.254/latest/meta-data/');
      case '/to-file':
        return redirect('file:///etc/passwd');
      case '/loop':
        return redirect('/loop');
      default:
        res.writeHead(500);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});


const limits = { maxBytes: 5000, timeoutMs: 2000 };

describe('createUrlFetcher: the SSRF guard', () => {
  it('refuses loopback by default, by address or by name', async () => {
    const fetch = createUrlFetcher(limits);
    const e = await imageErrorOf(fetch(`${base}/img`));
    expect(e.reason).toBe('fetch_refused');
    expect(e.message).toContain('127.0.0.1');
    expect((await imageErrorOf(fetch(`http://localhost:${port}/img`))).reason).toBe('fetch_refused');
  });

  it('serves an allow-listed address, CIDR or host name', async () => {
    for (const allowHosts of [['127.0.0.1'], ['127.0.0.0/8'], ['::ffff:127.0.0.1'], ['[::1]', '127.0.0.1']]) {
      const fetch = createUrlFetcher({ ...limits, allowHosts });
      expect(await fetch(`${base}/img`)).toEqual(IMAGE);
    }
    // A host name on the list is trusted with whatever it resolves to (localhost: 127.0.0.1 and/or ::1).
    const byName = createUrlFetcher({ ...limits, allowHosts: ['localhost'] });
    expect(await byName(`http://localhost:${port}/img`)).toEqual(IMAGE);
    expect(() => createUrlFetcher({ ...limits, allowHosts: ['10.0.0.0/99'] })).toThrow();
  });

  describe('refuses without any connection attempt', () => {
    let spies: jest.SpyInstance[];
    beforeEach(() => {
      spies = [jest.spyOn(http, 'request'), jest.spyOn(https, 'request'), jest.spyOn(http, 'get')];
    });
    afterEach(() => spies.forEach((s) => s.mockRestore()));

    it.each([
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/',
      'http://0.0.0.0/',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'https://127.0.0.1/',
      'http://2130706433/', // 127.0.0.1 as one number
      'http://0x7f.1/', // 127.0.0.1, hex and short form
      'http://[::]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/', // mapped 169.254.169.254
      'http://[64:ff9b::a9fe:a9fe]/', // NAT64 of 169.254.169.254
      'http://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
      'http://[fe80::1]/',
      'http://[fd12:3456::1]/',
      'http://[ff02::1]/',
    ])('%s', async (url) => {
      const fetch = createUrlFetcher(limits);
      const e = await imageErrorOf(fetch(url));
      expect(e.reason).toBe('fetch_refused');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    });

    it.each(['file:///etc/passwd', 'ftp://example.com/a.jpg', 'gopher://example.com/', 'data:image/png;base64,AAAA', 'not a url', '/relative.jpg'])(
      'refuses %s: not http(s)',
      async (url) => {
        const e = await imageErrorOf(createUrlFetcher(limits)(url));
        expect(e.reason).toBe('fetch_refused');
        for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      },
    );
  });

  it('classifies addresses', () => {
    for (const blocked of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1', '::', 'fe80::1%eth0', '::ffff:10.0.0.1', '198.18.0.1']) {
      expect([blocked, isBlockedAddress(blocked)]).toEqual([blocked, true]);
    }
    for (const open of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '100.128.0.1']) {
      expect([open, isBlockedAddress(open)]).toEqual([open, false]);
    }
  });
});

describe('createUrlFetcher: fetching', () => {
  const fetch = () => createUrlFetcher({ ...limits, allowHosts: ['127.0.0.1'] });

  it('follows a redirect to an allowed place', async () => {
    expect(await fetch()(`${base}/to-img`)).toEqual(IMAGE);
  });

  it('checks every redirect hop', async () => {
    expect((await imageErrorOf(fetch()(`${base}/to-private`))).reason).toBe('fetch_refused');
    expect((await imageErrorOf(fetch()(`${base}/to-metadata`))).reason).toBe('fetch_refused');
    expect((await imageErrorOf(fetch()(`${base}/to-file`))).reason).toBe('fetch_refused');
  });

  it('stops after maxRedirects', async () => {
    const e = await imageErrorOf(fetch()(`${base}/loop`));
    expect(e.reason).toBe('fetch_failed');
    expect(e.message).toMatch(/redirect/);
  });

  it('refuses a body over maxBytes, by Content-Length or while streaming', async () => {
    expect((await imageErrorOf(fetch()(`${base}/big`))).reason).toBe('too_many_bytes');
    expect((await imageErrorOf(fetch()(`${base}/big-chunked`))).reason).toBe('too_many_bytes');
    const roomy = createUrlFetcher({ ...limits, maxBytes: BIG.length, allowHosts: ['127.0.0.1'] });
    expect((await roomy(`${base}/big-chunked`)).length).toBe(BIG.length);
  });

  it('fails on an HTTP error status, naming the host but never the body', async () => {
    const e = await imageErrorOf(fetch()(`${base}/404`));
    expect(e.reason).toBe('fetch_failed');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toContain('404');
    expect(e.message).not.toContain('SECRET');
  });

  it('times out a server that never answers', async () => {
    const started = Date.now();
    const slow = createUrlFetcher({ maxBytes: 5000, timeoutMs: 300, allowHosts: ['127.0.0.1'] });
    const e = await imageErrorOf(slow(`${base}/hang`));
    expect(e.reason).toBe('fetch_failed');
    expect(e.message).toMatch(/timed out/);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
  });

  it('fails when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await imageErrorOf(fetch()(`http://127.0.0.1:${deadPort}/img`));
    expect(e.reason).toBe('fetch_failed');
  });

  it('fails on a host name that does not resolve', async () => {
    const e = await imageErrorOf(createUrlFetcher(limits)('http://no-such-host.invalid/a.jpg'));
    expect(e.reason).toBe('fetch_failed');
    expect(e.message).toContain('no-such-host.invalid');
  });
});
