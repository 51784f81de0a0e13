/**
 * What the migration layer knows of the operator API (adapters/vendor.ts MigrationHooks): the body limit,
 * the library a request names (`library_name` in the JSON body), the hits of a search answer and the
 * API's own error envelope for an upstream that fails.
 */
import { jsonOf, failureError, numeric, SEP } from '../migration/wire';
import { matchRoute, type MigrationHooks } from '../vendor';
import { errorEnvelope, toOperatorError } from './errors';
import { BODY_LIMIT, PREFIX } from './limits';
import { ROUTES } from './routes';

export const MIGRATION: MigrationHooks = {
  bodyLimit: () => BODY_LIMIT,
  needsBody: (req) => req.method === 'POST',
  classify(req, body) {
    const name = jsonOf(body)?.library_name;
    const route = matchRoute(ROUTES, req.method, req.path.slice(PREFIX.length))?.route;
    return { libraries: typeof name === 'string' ? [name] : [], kind: route?.kind ?? 'other' };
  },
  hits(status, body) {
    const results = status === 200 ? jsonOf(body)?.data?.results : undefined;
    if (!Array.isArray(results)) return undefined;
    return results.map((r: any) => ({ key: `${r.image_id}${SEP}${r.image_uri}`, score: numeric(r.score) }));
  },
  succeeded: (status, body) => status === 200 && jsonOf(body)?.status === 'SUCCESS',
  sendFailure(req, res, failure) {
    const error = toOperatorError(failureError(req, failure, BODY_LIMIT));
    res.status(error.http).json(errorEnvelope(error));
  },
};
