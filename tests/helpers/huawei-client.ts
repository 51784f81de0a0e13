/** A plain HTTP client for the Huawei routes of a test gateway: method, path, JSON body, headers. */
export interface HuaweiResponse {
  status: number;
  body: any;
  headers: Headers;
}

export async function hw(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HuaweiResponse> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Issues an IAM token (POST /v3/auth/tokens) and returns the X-Subject-Token value. */
export async function iamToken(url: string, request: unknown): Promise<string> {
  const res = await hw(url, 'POST', '/v3/auth/tokens', request);
  if (res.status !== 201) throw new Error(`IAM answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.headers.get('x-subject-token')!;
}
