/**
 * How a tenant is named where the people who run the gateway look (logs, the request log, /metrics). In open mode the tenant *is*
 * the caller's credential (an access key, or a Bearer API key such as `sk-live-…`), so one that looks
 * like a secret is shown as `key-` and 10 hex digits of its SHA-256, never verbatim; short, plain names
 * ("default", "acme", "team-b") stay readable. In verify mode tenants are the config's own ids: shown as they are.
 */
import { createHash } from 'node:crypto';
import type { AuthMode } from '../config';

/** Prefixes of well-known secret formats (API keys of common services, cloud access keys). */
const SECRET_PREFIXES = /^(sk|pk|rk|ak)[-_]|^(ghp|gho|ghs|xox[abpr])[-_]|^(AKIA|ASIA|LTAI)/i;

/** Long and mixing letters with digits: a generated key, not a name someone chose. */
function looksSecret(value: string): boolean {
  if (SECRET_PREFIXES.test(value)) return true;
  return value.length >= 16 && /[a-z]/i.test(value) && /\d/.test(value);
}

export function tenantLabel(mode: AuthMode, tenant: string): string {
  if (mode !== 'open' || !looksSecret(tenant)) return tenant;
  return `key-${createHash('sha256').update(tenant).digest('hex').slice(0, 10)}`;
}
