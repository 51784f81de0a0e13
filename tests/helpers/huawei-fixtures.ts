/**
 * Huawei facts for the tests, from tests/fixtures/huawei/: the SDK captures (fake keys), the signing test
 * vector of the spec's §6.2, and the documented JSON examples (spec §4, §5.4, §6.1 and the search page).
 */
import { fixture } from './fixtures';

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
  return fixture('huawei', 'sdk-captures');
}

/** A capture as the verifier's request object. */
export function captureRequest(c: HuaweiCapture) {
  return { method: c.method, url: c.url, rawHeaders: c.rawHeaders.flat(), body: Buffer.from(c.bodyBase64, 'base64') };
}

/** The §6.2 test vector as the verifier's request (Host from the URL), with its credentials and expected results. */
export function signingVector() {
  const v = fixture('huawei', 'signing-vectors');
  const target = new URL(v.url);
  const headers: [string, string][] = [...v.headers, ['Host', target.host]];
  return {
    ak: v.ak as string,
    sk: v.sk as string,
    method: v.method as string,
    url: target.pathname,
    rawHeaders: headers.flat(),
    body: Buffer.from(v.body as string),
    canonical: v.canonicalRequest as string,
    toSign: v.stringToSign as string,
    authorization: v.authorization as string,
  };
}

/** The JSON examples of a section of the spec ('4.1' … '4.7', '6.1'), in the order the section gives them. */
export function sectionExamples(section: string): any[] {
  const entry = fixture('huawei', 'examples')[section];
  if (!entry?.examples) throw new Error(`no examples for §${section} in tests/fixtures/huawei/examples.json`);
  return entry.examples;
}

/** A documented error body: the IAM 400 of §6.1 or the API gateway's 401 of §5.4. */
export function documentedError(name: '6.1 bad request' | '5.4 gateway 401'): any {
  return fixture('huawei', 'examples')[name].example;
}

/** The request examples of the English search page (six, in order) and its two response examples. */
export function searchPageExamples(): { requests: any[]; success: any; failure: any } {
  const { requests, success, failure } = fixture('huawei', 'examples').search;
  return { requests, success, failure };
}
