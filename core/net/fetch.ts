/**
 * Fetching what requests name by URL (image sources, import files), guarded against SSRF: only http(s); every address a host
 * resolves to must be public (not loopback, private, link-local — incl. the 169.254.169.254 metadata
 * service —, CGNAT, multicast, reserved, nor an IPv6 form embedding one of those) unless allow-listed.
 * The connection goes to the address that was checked (a custom `lookup`), so a second DNS answer cannot
 * swap in another address (DNS rebinding). Redirects are followed by hand, each hop checked again. The
 * body is streamed under a byte limit; one timer bounds the whole fetch, redirects included.
 */
import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
// A fetch that fails is an image source that cannot be read (ImageInvalidError fetch_failed / fetch_refused):
// what every caller reports, for an import file as for a picture.
import { ImageInvalidError } from '../errors';

export interface UrlFetcherOptions {
  /** Hostnames (exact, or `*.example.com` for subdomains), IP addresses or CIDRs allowed even if private. */
  allowHosts?: string[];
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Budget for the whole fetch (DNS, redirects, body), in milliseconds. */
  timeoutMs: number;
  /** Redirect hops followed (default 3). */
  maxRedirects?: number;
  userAgent?: string;
}

export type UrlFetcher = (url: string) => Promise<Buffer>;

type Family = 4 | 6;
interface Address {
  address: string;
  family: Family;
}

const DEFAULT_USER_AGENT = 'image-search-gateway (image fetch)';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Addresses no fetch may reach unless allow-listed. Two lists, one per family: a BlockList matches an
 * IPv4 address against IPv6 rules through its mapped form, so `::/8` would otherwise cover all of IPv4.
 */
function blockedAddresses(): { v4: net.BlockList; v6: net.BlockList } {
  const v4 = new net.BlockList();
  const v6 = new net.BlockList();
  const v4Ranges: [string, number][] = [
    ['0.0.0.0', 8], // "this network", incl. the unspecified 0.0.0.0
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // CGNAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local, cloud metadata
    ['172.16.0.0', 12],
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.0.2.0', 24], // TEST-NET-1
    ['192.88.99.0', 24], // 6to4 relay anycast
    ['192.168.0.0', 16],
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // TEST-NET-2
    ['203.0.113.0', 24], // TEST-NET-3
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, incl. broadcast
  ];
  for (const [base, prefix] of v4Ranges) v4.addSubnet(base, prefix, 'ipv4');
  const v6Ranges: [string, number][] = [
    ['::', 8], // unspecified, loopback, IPv4-compatible and other reserved (mapped forms are unwrapped first)
    ['100::', 64], // discard-only
    ['2001::', 23], // IETF protocol assignments, incl. Teredo
    ['2001:db8::', 32], // documentation
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
  ];
  for (const [base, prefix] of v6Ranges) v6.addSubnet(base, prefix, 'ipv6');
  return { v4, v6 };
}

const BLOCKED = blockedAddresses();

/** Expands an IPv6 address to its 16 bytes. */
function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A dotted IPv4 tail becomes two hextets.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1].split('.').map(Number);
    text =
      text.slice(0, dotted.index) + ((parts[0] << 8) | parts[1]).toString(16) + ':' + ((parts[2] << 8) | parts[3]).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  return bytes;
}

/** The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). */
function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) {
    return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  if (b[0] === 0x20 && b[1] === 0x02) return `${b[2]}.${b[3]}.${b[4]}.${b[5]}`;
  return undefined;
}

function stripZone(address: string): string {
  const zone = address.indexOf('%');
  return zone >= 0 ? address.slice(0, zone) : address;
}

/** True when the address is one a fetch must not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return BLOCKED.v4.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== undefined) return BLOCKED.v4.check(v4, 'ipv4');
    return BLOCKED.v6.check(stripZone(address), 'ipv6');
  }
  return true; // not an address at all
}

interface AllowList {
  hosts: Set<string>;
  suffixes: string[];
  addresses: net.BlockList;
}

function parseAllowList(entries: string[] = []): AllowList {
  const allow: AllowList = { hosts: new Set(), suffixes: [], addresses: new net.BlockList() };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (!entry) continue;
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const base = entry.slice(0, slash);
      const prefix = Number(entry.slice(slash + 1));
      const family = net.isIP(base);
      if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`allowHosts: '${raw}' is not a valid CIDR`);
      }
      allow.addresses.addSubnet(base, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (net.isIP(entry)) {
      allow.addresses.addAddress(entry, net.isIP(entry) === 4 ? 'ipv4' : 'ipv6');
    } else if (entry.startsWith('*.')) {
      allow.suffixes.push(entry.slice(1));
    } else {
      allow.hosts.add(entry);
    }
  }
  return allow;
}

function isAllowedHost(allow: AllowList, hostname: string): boolean {
  return allow.hosts.has(hostname) || allow.suffixes.some((s) => hostname.endsWith(s));
}

function isAllowedAddress(allow: AllowList, address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return allow.addresses.check(address, 'ipv4');
  if (family === 6) {
    if (allow.addresses.check(stripZone(address), 'ipv6')) return true;
    const v4 = embeddedIpv4(address);
    return v4 !== undefined && allow.addresses.check(v4, 'ipv4');
  }
  return false;
}

/** A fetch in progress: the one deadline every step shares. */
class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  constructor(ms: number) {
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => this.controller.abort(), ms);
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

export function createUrlFetcher(opts: UrlFetcherOptions): UrlFetcher {
  const allow = parseAllowList(opts.allowHosts);
  const maxRedirects = opts.maxRedirects ?? 3;
  const userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
  const { maxBytes, timeoutMs } = opts;

  const timedOut = (host: string) =>
    new ImageInvalidError('fetch_failed', `fetching the image from ${host} timed out after ${timeoutMs} ms`);

  /** Resolves and checks a URL's host; the addresses returned are the only ones it may connect to. */
  async function checkedAddresses(url: URL, deadline: Deadline): Promise<Address[]> {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const hostAllowed = isAllowedHost(allow, hostname);
    let addresses: Address[];
    const literal = net.isIP(hostname);
    if (literal) {
      addresses = [{ address: hostname, family: literal as Family }];
    } else {
      try {
        const found = await Promise.race([
          dns.lookup(hostname, { all: true, verbatim: true }),
          new Promise<never>((_, reject) => {
            const fail = () => reject(timedOut(url.host));
            if (deadline.signal.aborted) fail();
            else deadline.signal.addEventListener('abort', fail);
          }),
        ]);
        addresses = found.map((a) => ({ address: a.address, family: a.family as Family }));
      } catch (e) {
        if (e instanceof ImageInvalidError) throw e;
        throw new ImageInvalidError('fetch_failed', `cannot resolve the image host ${url.hostname}`);
      }
      if (addresses.length === 0) {
        throw new ImageInvalidError('fetch_failed', `cannot resolve the image host ${url.hostname}`);
      }
    }
    if (!hostAllowed) {
      for (const { address } of addresses) {
        if (isBlockedAddress(address) && !isAllowedAddress(allow, address)) {
          throw new ImageInvalidError(
            'fetch_refused',
            `image URL host ${url.hostname} points to a private or reserved address (${address}); refused`,
          );
        }
      }
    }
    return addresses;
  }

  /** Checks the scheme of a URL (the start or a redirect target). */
  function parseUrl(text: string, base?: URL): URL {
    let url: URL;
    try {
      url = new URL(text, base);
    } catch {
      throw new ImageInvalidError('fetch_refused', 'image URL is not a valid absolute http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      const scheme = url.protocol.replace(/:$/, '');
      throw new ImageInvalidError('fetch_refused', `image URL scheme ${scheme} is not allowed (http or https only)`);
    }
    return url;
  }

  /** One request to a checked address; resolves a redirect target or the body. */
  function request(url: URL, addresses: Address[], deadline: Deadline): Promise<{ redirect?: string; body?: Buffer }> {
    return new Promise((resolve, reject) => {
      const host = url.host;
      const client = url.protocol === 'https:' ? https : http;
      let settled = false;
      const finish = (error: Error | undefined, value?: { redirect?: string; body?: Buffer }) => {
        if (settled) return;
        settled = true;
        deadline.signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value!);
      };
      // Hand the connection the checked addresses only: no second DNS query.
      const lookup = (
        _hostname: string,
        options: { all?: boolean; family?: number },
        callback: (...args: unknown[]) => void,
      ): void => {
        const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
        const list = usable.length > 0 ? usable : addresses;
        if (options.all) callback(null, list);
        else callback(null, list[0].address, list[0].family);
      };
      const req = client.request(url, {
        method: 'GET',
        agent: false,
        lookup: lookup as unknown as net.LookupFunction,
        headers: { 'user-agent': userAgent, accept: 'image/*,*/*;q=0.8', 'accept-encoding': 'identity' },
      });
      const onAbort = () => {
        req.destroy();
        finish(timedOut(host));
      };
      if (deadline.signal.aborted) return onAbort();
      deadline.signal.addEventListener('abort', onAbort);

      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ? ` (${e.code})` : '';
        finish(new ImageInvalidError('fetch_failed', `cannot fetch the image from ${host}: connection failed${code}`));
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (REDIRECT_STATUSES.has(status)) {
          res.resume();
          const location = res.headers.location;
          if (!location) {
            finish(new ImageInvalidError('fetch_failed', `image host ${host} answered HTTP ${status} without a Location`));
          } else {
            finish(undefined, { redirect: location });
          }
          req.destroy();
          return;
        }
        if (status < 200 || status > 299) {
          res.resume();
          req.destroy();
          finish(new ImageInvalidError('fetch_failed', `cannot fetch the image from ${host}: HTTP ${status}`));
          return;
        }
        const tooBig = () =>
          new ImageInvalidError('too_many_bytes', `image at ${host} is larger than the limit of ${maxBytes} bytes`);
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          req.destroy();
          finish(tooBig());
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) {
            req.destroy();
            finish(tooBig());
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (!res.complete) {
            finish(new ImageInvalidError('fetch_failed', `cannot fetch the image from ${host}: the connection closed early`));
          } else {
            finish(undefined, { body: Buffer.concat(chunks, received) });
          }
        });
        res.on('error', () =>
          finish(new ImageInvalidError('fetch_failed', `cannot fetch the image from ${host}: the connection failed`)),
        );
        res.on('aborted', () =>
          finish(new ImageInvalidError('fetch_failed', `cannot fetch the image from ${host}: the connection closed early`)),
        );
      });
      req.end();
    });
  }

  return async function fetchUrl(text: string): Promise<Buffer> {
    let url = parseUrl(text);
    const deadline = new Deadline(timeoutMs);
    try {
      for (let hop = 0; ; hop++) {
        const addresses = await checkedAddresses(url, deadline);
        const result = await request(url, addresses, deadline);
        if (result.body) return result.body;
        if (hop >= maxRedirects) {
          throw new ImageInvalidError(
            'fetch_failed',
            `image URL redirects more than ${maxRedirects} times (last host ${url.host})`,
          );
        }
        url = parseUrl(result.redirect!, url);
      }
    } finally {
      deadline.clear();
    }
  };
}
