/**
 * Operator API credentials → tenant. The vendor documents no authentication. verify mode takes
 * `Authorization: Bearer <apiKey>` checked against the tenants' operator.apiKeys; open mode needs no key
 * and uses the key, when one is sent, as the tenant name (so `Bearer acme` in open mode is tenant acme,
 * the same tenant other vendors' access key "acme" reaches).
 */
import { timingSafeEqual } from 'node:crypto';
import { OPEN_MODE_DEFAULT_TENANT, type AuthConfig } from '../config';
import type { Identity } from '../vendor';
import { OperatorRefusal, UNAUTHORIZED } from './errors';

const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/;

/** The tenant of a request, or undefined when it must be refused with 401. */
export function operatorTenant(auth: AuthConfig, authorization: string | undefined): string | undefined {
  const key = authorization === undefined ? undefined : BEARER.exec(authorization.trim())?.[1];
  if (authorization !== undefined && key === undefined) return undefined; // malformed header: refused in any mode
  if (auth.mode === 'open') return key ?? OPEN_MODE_DEFAULT_TENANT;
  if (key === undefined) return undefined;
  for (const tenant of auth.tenants) {
    if (tenant.operator?.apiKeys?.some((k) => sameSecret(k, key))) return tenant.id;
  }
  return undefined;
}

/** Who the credentials name: an API key (never repeated here: it is the secret), or none in open mode. */
export type OperatorPrincipal = { scheme: 'bearer' | 'none' };

/** The caller in the adapter contract's shape (adapters/vendor.ts Identity), or the API's 401 thrown (OperatorRefusal). */
export function identify(auth: AuthConfig, authorization: string | undefined): Identity<OperatorPrincipal> {
  const tenant = operatorTenant(auth, authorization);
  if (tenant === undefined) throw new OperatorRefusal(UNAUTHORIZED);
  return { tenant, principal: { scheme: authorization === undefined ? 'none' : 'bearer' } };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
