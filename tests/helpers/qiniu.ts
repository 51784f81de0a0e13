/**
 * Qiniu test helpers: the examples of the vendor page by section (tests/fixtures/qiniu/examples.json), with
 * their <placeholders> filled in; the SDK captures with their fake keys; a loopback server that serves test
 * images by path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixture } from './fixtures';

/** The section titles of the page, in its order (the routes of the API). */
export const SECTIONS = [
  '新建图像库',
  '删除图像库',
  '添加图片',
  '删除图片',
  '显示所有图像库',
  '显示指定图像库信息',
  '显示所有图片',
  '显示指定图片信息',
  '图片搜索',
  '图片搜索(旧版本)',
] as const;
export type Section = (typeof SECTIONS)[number];

interface SectionExample {
  method: string;
  path: string;
  /** The documented body as text: JSON with <placeholders> and `, ...` continuations. */
  requestTemplate?: string;
  response: any;
}

function section(title: Section): SectionExample {
  const entry = fixture('qiniu', 'examples')[title];
  if (!entry) throw new Error(`no section ${title} in tests/fixtures/qiniu/examples.json`);
  return entry;
}

/** The signed requests of the official qiniu package, with the fake keys they were signed with. */
export function qiniuCaptures(): { accessKey: string; secretKey: string; captures: any[] } {
  return fixture('qiniu', 'sdk-captures');
}

/** `<name>` placeholders → JSON values, taken in turn from each list; `, ...` continuation lines dropped. */
export function fill(template: string, values: Record<string, unknown[]>): any {
  const next: Record<string, number> = {};
  const text = template.replace(/,\s*\.\.\./g, '').replace(/<([^<>]+)>/g, (_m, name: string) => {
    const list = values[name];
    if (!list) throw new Error(`no value for placeholder <${name}>`);
    const i = next[name] ?? 0;
    next[name] = i + 1;
    return JSON.stringify(list[Math.min(i, list.length - 1)]);
  });
  return JSON.parse(text);
}

/** A section's documented request body (template text, placeholders unfilled), if it has one. */
export function requestTemplate(title: Section): string | undefined {
  return section(title).requestTemplate;
}

/** A section's documented response (parsed). */
export function responseExample(title: Section): any {
  return section(title).response;
}

/** The request line of a section: method and path as documented. */
export function requestLine(title: Section): { method: string; path: string } {
  const { method, path } = section(title);
  return { method, path };
}

/** Serves `images[path]` on 127.0.0.1 (404 otherwise). */
export async function startImageServer(images: Map<string, Buffer>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const bytes = images.get(req.url ?? '');
    if (!bytes) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export const dataUri = (bytes: Buffer) => `data:application/octet-stream;base64,${bytes.toString('base64')}`;
