/**
 * Alibaba test helpers: the signed SDK captures (tests/fixtures/alibaba/sdk-captures.json), and a raw RPC
 * client for contract tests (open mode, unsigned).
 */
import { fixture } from './fixtures';

export interface Capture {
  seq: number;
  label: string;
  scheme: string;
  time: string;
  method: string;
  url: string;
  rawHeaders: Array<[string, string]>;
  headers: Record<string, string>;
  bodyBase64: string;
}

export function alibabaCaptures(): { accessKeyId: string; accessKeySecret: string; captures: Capture[] } {
  return fixture('alibaba', 'sdk-captures');
}

/** POST / with x-acs-action and a form body (no signature: the gateway in open mode). */
export async function rpc(baseUrl: string, action: string, params: Record<string, string | number | boolean>, opts: { accessKeyId?: string; query?: Record<string, string> } = {}) {
  const body = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const query = opts.query ? `?${new URLSearchParams(opts.query)}` : '';
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-acs-action': action,
    'x-acs-version': '2020-12-14',
  };
  if (opts.accessKeyId) {
    headers.authorization = `ACS3-HMAC-SHA256 Credential=${opts.accessKeyId},SignedHeaders=host;x-acs-action,Signature=${'0'.repeat(64)}`;
  }
  const res = await fetch(`${baseUrl}/${query}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
