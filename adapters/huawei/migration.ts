/**
 * What the migration layer knows of Huawei ImageSearch (adapters/vendor.ts MigrationHooks): the body limit
 * (smaller for AK/SK-signed requests), the instance a request names (in the path, or `name` of a create),
 * the hits of a search answer and the vendor's envelopes for an upstream that fails.
 */
import { decodeSegment, failureError, jsonOf, numeric } from '../migration/wire';
import { matchRoute, type MigrationHooks } from '../vendor';
import { answerResponse, toHuaweiAnswer } from './errors';
import { AKSK_BODY_LIMIT, TOKEN_BODY_LIMIT } from './limits';
import { ROUTES } from './routes';
import { headerValue } from './signer';

const CREATE = /^\/v1\/[^/]+\/service$/;

export const MIGRATION: MigrationHooks = {
  bodyLimit: (req) => (headerValue(req.rawHeaders, 'authorization') !== undefined ? AKSK_BODY_LIMIT : TOKEN_BODY_LIMIT),
  needsBody: (req) => req.method === 'POST' && CREATE.test(req.path),
  classify(req, body) {
    // The instance is named by the path whatever the method; the kind is the route's (a wrong method: other).
    const matched = matchRoute(ROUTES, undefined, req.path);
    if (!matched || !matched.route.path.startsWith('/v1/')) return { libraries: [], kind: 'other' };
    const kind = matchRoute(ROUTES, req.method, req.path)?.route.kind ?? 'other';
    const name = matched.params[1] !== undefined ? decodeSegment(matched.params[1]) : jsonOf(body)?.name;
    return { libraries: typeof name === 'string' ? [name] : [], kind };
  },
  hits(status, body) {
    const result = status === 200 ? jsonOf(body)?.result : undefined;
    if (!Array.isArray(result)) return undefined;
    return result.map((r: any) => ({ key: String(r.path), score: numeric(r.sim) }));
  },
  succeeded: (status) => status === 200,
  sendFailure(req, res, failure) {
    const answer = toHuaweiAnswer(failureError(req, failure, MIGRATION.bodyLimit(req)));
    const { status, body } = answerResponse(answer, req.id);
    res.status(status).json(body);
  },
};
