/**
 * Huawei facts the tests read from ../shared instead of copying them: the SDK captures (fake keys), the
 * signing test vector of specs/huawei.md §6.2, and the documented JSON examples.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, spec, vendorDoc } from './vendor-docs';

export interface HuaweiCapture {
  seq: number;
  label: string;
  method: string;
  url: string;
  rawHeaders: [string, string][];
  headers: Record<string, string>;
  bodyBase64: string;
}

export interface HuaweiCaptures {
  ak: string;
  sk: string;
  projectId: string;
  results: Array<{ label: string; response: Record<string, string> }>;
  captures: HuaweiCapture[];
}

export function huaweiCaptures(): HuaweiCaptures {
  return JSON.parse(readFileSync(path.join(SHARED_DIR, 'fixtures', 'sdk-captures', 'huawei.json'), 'utf8'));
}

/** A capture as the verifier's request object. */
export function captureRequest(c: HuaweiCapture) {
  return { method: c.method, url: c.url, rawHeaders: c.rawHeaders.flat(), body: Buffer.from(c.bodyBase64, 'base64') };
}

/** The §6.2 test vector: request, credentials, canonical request, string to sign and Authorization. */
export function signingVector() {
  const text = spec('huawei.md');
  const at = text.indexOf('**Test vector**');
  const blocks = [...text.slice(at).matchAll(/```\n([\s\S]*?)```/g)].slice(0, 4).map((m) => m[1].replace(/\n$/, ''));
  const [input, canonical, toSign, result] = blocks;
  const lines = input.split('\n');
  const ak = /^AK = (.+)$/.exec(lines[0])![1];
  const sk = /^SK = (.+)$/.exec(lines[1])![1];
  const [method, url] = lines[2].split(' ');
  const target = new URL(url);
  const headers: [string, string][] = lines.slice(3, -1).map((l) => {
    const i = l.indexOf(': ');
    return [l.slice(0, i), l.slice(i + 2)];
  });
  headers.push(['Host', target.host]);
  const body = Buffer.from(/^body: (.*)$/.exec(lines[lines.length - 1])![1]);
  const authorization = /^Authorization: (.*)$/.exec(result.trim())![1];
  return { ak, sk, method, url: target.pathname, rawHeaders: headers.flat(), body, canonical, toSign, authorization };
}

/** The ```json blocks of a section of specs/huawei.md (`//` comments and HTTP lines dropped): their objects. */
export function specExamples(heading: RegExp): any[] {
  const text = spec('huawei.md');
  const start = text.search(heading);
  if (start < 0) throw new Error(`no heading ${heading} in huawei.md`);
  const rest = text.slice(start + 1);
  const end = rest.search(/\n#{2,3} /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) =>
    topLevelObjects(
      m[1]
        .split('\n')
        .filter((l) => !/^\s*\/\//.test(l) && !/^(POST|GET|PUT|DELETE|HTTP) /.test(l))
        .join('\n'),
    ),
  );
}

/** The request examples of the English search page (six, in order) and its two response examples. */
export function searchPageExamples(): { requests: any[]; success: any; failure: any } {
  const doc = vendorDoc('huawei-imagesearch-search-en.txt');
  const top = topLevelObjects(doc.slice(doc.indexOf('Example Requests')));
  return {
    requests: top.filter((o) => 'limit' in o),
    success: top.find((o) => 'count' in o),
    failure: top.find((o) => 'error_code' in o),
  };
}

/** Every top-level JSON object of a text, in order (nested objects are part of their parent; non-JSON braces skipped). */
export function topLevelObjects(text: string): any[] {
  const out: any[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        try {
          out.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          i = start; // not JSON (a URL template such as {endpoint}): rescan after its brace
        }
      }
    }
  }
  return out;
}
