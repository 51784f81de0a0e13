/**
 * What the migration layer knows of Qiniu 以图搜图 (adapters/vendor.ts MigrationHooks): the body limit, the
 * groups a request names (in the path, or `params.groups` of a multi-group search), the hits of a search
 * answer and the vendor's `{"error"}` answer for an upstream that fails.
 */
import { decodeSegment, failureError, jsonOf, numeric, SEP } from '../migration/wire';
import { matchRoute, type MigrationHooks } from '../vendor';
import { errorBody, toQiniuError } from './errors';
import { BODY_LIMIT, PREFIX } from './limits';
import { ROUTES } from './routes';

export const MIGRATION: MigrationHooks = {
  bodyLimit: () => BODY_LIMIT,
  needsBody: (req) => req.path === `${PREFIX}/groups/search`,
  classify(req, body) {
    const route = req.path.slice(PREFIX.length);
    if (route === '/groups/search') {
      const groups = jsonOf(body)?.params?.groups;
      return { libraries: Array.isArray(groups) ? [...new Set(groups.filter((g: unknown): g is string => typeof g === 'string'))] : [], kind: 'search' };
    }
    // The group is named by the path whatever the method; the kind is the route's (a wrong method: other).
    const matched = matchRoute(ROUTES, undefined, route);
    if (!matched || matched.params.length === 0) return { libraries: [], kind: 'other' };
    return { libraries: [decodeSegment(matched.params[0])], kind: matchRoute(ROUTES, req.method, route)?.route.kind ?? 'other' };
  },
  hits(status, body) {
    if (status !== 200) return undefined;
    const answer = jsonOf(body);
    if (!answer || !('result' in answer)) return undefined;
    const result = answer.result ?? []; // the multi-group search answers "result": null when nothing matched
    if (!Array.isArray(result)) return undefined;
    return result.map((r: any) => ({ key: `${r.group ?? ''}${SEP}${r.id}`, score: numeric(r.score) }));
  },
  succeeded: (status) => status === 200,
  sendFailure(req, res, failure) {
    const error = toQiniuError(failureError(req, failure, BODY_LIMIT));
    res.status(error.http).json(errorBody(error));
  },
};
