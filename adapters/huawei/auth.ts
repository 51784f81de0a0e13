/**
 * Huawei credentials → tenant. Every ImageSearch route takes either an AK/SK signature
 * (Authorization: SDK-HMAC-SHA256 ..., X-Sdk-Date) or an IAM token (X-Auth-Token) issued by iam.ts.
 *
 * verify mode: the AK must be in a tenant's huawei.accessKeys and the signature must verify over the raw
 * request, with X-Sdk-Date signed and within 15 minutes; a token must verify (iam.ts).
 * open mode: any AK (the tenant is the AK itself) and any secret; a request without credentials is the
 * default tenant. Malformed credentials (an Authorization that is not SDK-HMAC-SHA256, a missing or
 * malformed X-Sdk-Date, a token that is not one of ours) are refused in both modes.
 *
 * Which {project_id} a caller may address (checked by projectAllowed, verify mode only): a token's own
 * project; for an AK, the signed X-Project-Id when sent, and the tenant's huawei.projects when listed.
 */
import { OPEN_MODE_DEFAULT_TENANT, type AuthConfig } from '../config';
import type { Identity } from '../vendor';
import { GATEWAY, IS, unauthorized, type Answer, type GatewayError } from './errors';
import type { Iam } from './iam';
import { SDK_DATE_SKEW_MS } from './limits';
import { headerValue, parseAuthorization, parseSdkDate, signatureMatches, ALGORITHM, type SignedRequest } from './signer';

export interface Principal {
  tenant: string;
  /** The project ids this caller may address; undefined = any. */
  projects?: string[];
  /** The signed X-Project-Id of an AK/SK request: the path must name the same project. */
  signedProject?: string;
  /** A domain-scoped token: valid, but it addresses no project. */
  domainScoped?: boolean;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; error: GatewayError };

export interface AuthContext {
  auth: AuthConfig;
  iam: Iam;
  now?: () => number;
}

/** True when the request carries Huawei credentials (used to claim unknown routes for this adapter). */
export function hasHuaweiCredentials(rawHeaders: string[]): boolean {
  const authorization = headerValue(rawHeaders, 'authorization');
  return (
    headerValue(rawHeaders, 'x-auth-token') !== undefined ||
    headerValue(rawHeaders, 'x-sdk-date') !== undefined ||
    (authorization !== undefined && authorization.startsWith(ALGORITHM))
  );
}

/** The body limit that applies before the body is read: AK/SK requests have the smaller one. */
export function isAkSkRequest(rawHeaders: string[]): boolean {
  return headerValue(rawHeaders, 'authorization') !== undefined;
}

export function authenticate(ctx: AuthContext, req: SignedRequest): AuthResult {
  const now = (ctx.now ?? Date.now)();
  const authorization = headerValue(req.rawHeaders, 'authorization');
  if (authorization !== undefined) return checkAkSk(ctx, req, authorization, now);
  const token = headerValue(req.rawHeaders, 'x-auth-token');
  if (token !== undefined) return checkToken(ctx, token, now);
  if (ctx.auth.mode === 'open') return { ok: true, principal: { tenant: OPEN_MODE_DEFAULT_TENANT } };
  return { ok: false, error: unauthorized('no_credentials') };
}

function checkToken(ctx: AuthContext, token: string, now: number): AuthResult {
  const result = ctx.iam.check(token, now);
  if (!result.ok) return { ok: false, error: result.reason === 'expired' ? GATEWAY.tokenExpired : unauthorized('token_invalid') };
  const { claims } = result;
  // A domain-scoped token addresses no project at all (ImageSearch needs a project-scoped token).
  if (!claims.project) return { ok: true, principal: { tenant: claims.tenant, domainScoped: true } };
  return { ok: true, principal: { tenant: claims.tenant, projects: [claims.project.id] } };
}

function checkAkSk(ctx: AuthContext, req: SignedRequest, authorization: string, now: number): AuthResult {
  const parsed = parseAuthorization(authorization);
  if (!parsed) return { ok: false, error: unauthorized('malformed_authorization') };
  const sdkDate = headerValue(req.rawHeaders, 'x-sdk-date');
  if (sdkDate === undefined || !parsed.signedHeaders.includes('x-sdk-date')) return { ok: false, error: unauthorized('date_missing') };
  const signedAt = parseSdkDate(sdkDate);
  if (signedAt === undefined) return { ok: false, error: unauthorized('malformed_authorization') };

  const projectHeader = parsed.signedHeaders.includes('x-project-id') ? headerValue(req.rawHeaders, 'x-project-id') : undefined;
  if (ctx.auth.mode === 'open') {
    return { ok: true, principal: { tenant: parsed.accessKey, signedProject: projectHeader } };
  }

  if (Math.abs(now - signedAt) > SDK_DATE_SKEW_MS) return { ok: false, error: unauthorized('date_skew') };
  for (const tenant of ctx.auth.tenants) {
    const key = tenant.huawei?.accessKeys?.find((k) => k.ak === parsed.accessKey);
    if (!key) continue;
    if (!signatureMatches(req, parsed, key.sk, sdkDate)) return { ok: false, error: unauthorized('signature_mismatch') };
    const listed = tenant.huawei?.projects?.map((p) => p.id);
    return { ok: true, principal: { tenant: tenant.id, projects: listed && listed.length > 0 ? listed : undefined, signedProject: projectHeader } };
  }
  return { ok: false, error: unauthorized('unknown_access_key') };
}

/** Whether the principal may address this {project_id}; open mode addresses any (but not with a domain-scoped token). */
export function projectAllowed(ctx: AuthContext, principal: Principal, projectId: string): boolean {
  if (principal.domainScoped) return false;
  if (ctx.auth.mode === 'open') return true;
  if (principal.signedProject !== undefined && principal.signedProject !== projectId) return false;
  return principal.projects === undefined || principal.projects.includes(projectId);
}

/** A request refused with the API gateway's or the service's own answer (errors.ts Answer). */
export class HuaweiRefusal extends Error {
  constructor(readonly answer: Answer) {
    super(answer.error.code);
  }
}

/**
 * The caller of a request addressing {project_id} in the adapter contract's shape (adapters/vendor.ts
 * Identity), or the refusal thrown: the gateway's 401 for bad credentials, the service's IS.0004 for a token without a project,
 * IS.0019 for a project the caller may not address.
 */
export function identify(ctx: AuthContext, req: SignedRequest, projectId: string): Identity<Principal> {
  const result = authenticate(ctx, req);
  if (!result.ok) throw new HuaweiRefusal({ kind: 'gateway', error: result.error });
  // A token without a project (domain scope) passes the gateway but the service cannot use it.
  if (result.principal.domainScoped) throw new HuaweiRefusal({ kind: 'service', error: IS.tokenAbnormal });
  if (!projectAllowed(ctx, result.principal, projectId)) throw new HuaweiRefusal({ kind: 'service', error: IS.projectMismatch });
  return { tenant: result.principal.tenant, principal: result.principal };
}
