/**
 * Qiniu test helpers: the examples of the vendor page (shared/vendor-docs/qiniu-image-search-zh.txt) by
 * section, with their <placeholders> filled in; a loopback server that serves test images by path; and a
 * client that sends requests signed with the qiniu package's own generateAccessTokenV2.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vendorDoc } from './vendor-docs';

const doc = vendorDoc('qiniu-image-search-zh.txt');

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

function sectionText(title: Section): string {
  const body = doc.slice(doc.indexOf('具体调用方式及示例'));
  const at = (t: string) => body.search(new RegExp(`\\n {4}(?:## )?${t.replace(/[()]/g, '\\$&')}[\\n ]`));
  const start = at(title);
  if (start < 0) throw new Error(`no section ${title} in the vendor page`);
  const next = SECTIONS.slice(SECTIONS.indexOf(title) + 1).map(at).find((i) => i > start) ?? body.indexOf('文件适用规格');
  return body.slice(start, next);
}

/** The first balanced {...} at or after `from`, as text (placeholders and all). */
function objectText(text: string, from: number): string | undefined {
  const start = text.indexOf('{', from);
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '{' || text[i] === '[') depth++;
    else if (text[i] === '}' || text[i] === ']') {
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
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
  const text = sectionText(title);
  const syntax = text.indexOf('请求语法');
  const answer = text.search(/返回字段说明|返回示例|返回语法/);
  const body = objectText(text, syntax);
  return body !== undefined && text.indexOf(body) < answer ? body : undefined;
}

/** A section's documented response (parsed). */
export function responseExample(title: Section): any {
  const text = sectionText(title);
  const at = text.search(/返回示例|返回语法/);
  return JSON.parse(objectText(text, at)!);
}

/** The request line of a section: method and path as documented. */
export function requestLine(title: Section): { method: string; path: string } {
  const m = /(GET|POST) (\/v1\/\S+)\s+Http\/1\.1/.exec(sectionText(title))!;
  return { method: m[1], path: m[2] };
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
