/**
 * The emulated IAM: POST /v3/auth/tokens (password method) issues a token, and X-Auth-Token values are
 * checked here. A token is a JWT (HS256, jsonwebtoken) signed with auth.tokenSecret, or with a secret
 * made once per process when none is configured (tokens then end with the process). It lives 24 hours
 * and carries the tenant and the project it is scoped to.
 *
 * verify mode: the user, password and account (domain) must be a tenant's huawei.users / huawei.domain;
 * a project scope must name one of the tenant's huawei.projects when the tenant lists any.
 * open mode: any user and password; the tenant is the account (domain) name, else the user name.
 * Ids the config does not give (account, user, projects of tenants without a list) are derived from the
 * names, so they are stable across restarts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AuthConfig, TenantCredentials } from '../config';
import { validator } from '../http/validate';
import iamSchema from '../../schemas/huawei/iam-auth-tokens.json';
import { IAM, type IamError } from './errors';
import { TOKEN_TTL_SECONDS } from './limits';

interface NameOrId {
  name?: string;
  id?: string;
}

interface TokenRequest {
  auth: {
    identity: { methods: string[]; password: { user: { name: string; password: string; domain: NameOrId } } };
    scope?: { project?: NameOrId; domain?: NameOrId };
  };
}

const validate = validator<TokenRequest>(iamSchema);

/** What a token proves: the tenant, the account, the user, and the project (absent for domain scope). */
export interface TokenClaims {
  tenant: string;
  domain: { id: string; name: string };
  user: { id: string; name: string };
  project?: { id: string; name: string };
}

export type IssueResult = { ok: true; token: string; body: object } | { ok: false; error: IamError };

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'invalid' | 'expired' };

/** A stable 32-hex id for a name the config gives no id for (Huawei ids are 32 lower-case hex). */
export function derivedId(kind: 'domain' | 'user' | 'project', name: string): string {
  return createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 32);
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** The vendor prints times with microseconds: 2020-01-04T09:05:22.701000Z. */
function iamTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class Iam {
  private readonly secret: string;

  constructor(private readonly auth: AuthConfig) {
    this.secret = auth.tokenSecret ?? randomBytes(32).toString('hex');
  }

  /** POST /v3/auth/tokens with a parsed body; `catalog` is left out when the caller asked nocatalog. */
  issue(body: unknown, withCatalog: boolean, now = Date.now()): IssueResult {
    let req: TokenRequest;
    try {
      req = validate(body);
    } catch {
      return { ok: false, error: IAM.badBody };
    }
    const { user } = req.auth.identity.password;
    const found = this.findTenant(user.name, user.password, user.domain);
    if (!found) return { ok: false, error: IAM.wrongPassword };
    const domainName = user.domain.name ?? found.credentials?.huawei?.domain ?? user.domain.id!;
    const domain = { id: user.domain.id ?? derivedId('domain', domainName), name: domainName };
    const scope = req.auth.scope;
    let project: TokenClaims['project'];
    if (scope?.project) {
      project = this.project(found.credentials, scope.project);
      if (!project) return { ok: false, error: IAM.noProject };
    }
    const claims: TokenClaims = { tenant: found.tenant, domain, user: { id: derivedId('user', `${domain.name}/${user.name}`), name: user.name }, project };
    const issuedAt = now;
    const expiresAt = issuedAt + TOKEN_TTL_SECONDS * 1000;
    const token = jwt.sign({ ...claims, iat: Math.floor(issuedAt / 1000), exp: Math.floor(expiresAt / 1000) }, this.secret, { algorithm: 'HS256' });
    const scoped = project ? { project: { domain, id: project.id, name: project.name } } : { domain };
    return {
      ok: true,
      token,
      body: {
        token: {
          ...(withCatalog ? { catalog: [] } : {}),
          expires_at: iamTime(expiresAt),
          issued_at: iamTime(issuedAt),
          methods: ['password'],
          ...scoped,
          roles: [{ id: '0', name: 'te_admin' }],
          user: { domain, id: claims.user.id, name: user.name, password_expires_at: '' },
        },
      },
    };
  }

  /** Checks an X-Auth-Token. open mode checks the shape and expiry, not the signature (any credentials). */
  check(token: string, now = Date.now()): TokenCheck {
    let payload: unknown;
    try {
      if (this.auth.mode === 'verify') {
        payload = jwt.verify(token, this.secret, { algorithms: ['HS256'], clockTimestamp: Math.floor(now / 1000) });
      } else {
        payload = jwt.decode(token);
        const exp = (payload as { exp?: unknown } | null)?.exp;
        if (typeof exp !== 'number') return { ok: false, reason: 'invalid' };
        if (exp * 1000 <= now) return { ok: false, reason: 'expired' };
      }
    } catch (e) {
      return { ok: false, reason: e instanceof jwt.TokenExpiredError ? 'expired' : 'invalid' };
    }
    const claims = payload as Partial<TokenClaims> | null;
    if (!claims || typeof claims.tenant !== 'string' || !claims.domain || !claims.user) return { ok: false, reason: 'invalid' };
    return { ok: true, claims: { tenant: claims.tenant, domain: claims.domain, user: claims.user, project: claims.project } };
  }

  private findTenant(userName: string, password: string, domain: NameOrId): { tenant: string; credentials?: TenantCredentials } | undefined {
    if (this.auth.mode === 'open') return { tenant: domain.name ?? userName };
    for (const t of this.auth.tenants) {
      const hw = t.huawei;
      if (!hw?.users) continue;
      const account = hw.domain;
      if (account !== undefined && domain.name !== undefined && domain.name !== account) continue;
      if (account !== undefined && domain.id !== undefined && domain.id !== derivedId('domain', account)) continue;
      if (hw.users.some((u) => u.name === userName && sameSecret(u.password, password))) return { tenant: t.id, credentials: t };
    }
    return undefined;
  }

  /** The project a scope names: one of the tenant's when it lists projects, else derived from the scope. */
  private project(credentials: TenantCredentials | undefined, scope: NameOrId): TokenClaims['project'] {
    const listed = credentials?.huawei?.projects;
    if (listed && listed.length > 0) {
      return listed.find((p) => (scope.id !== undefined ? p.id === scope.id : p.name === scope.name));
    }
    if (scope.id !== undefined) return { id: scope.id, name: scope.name ?? scope.id };
    return { id: derivedId('project', scope.name!), name: scope.name! };
  }
}
