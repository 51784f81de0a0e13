/**
 * What the migration layer knows of Alibaba Image Search (adapters/vendor.ts MigrationHooks): the body
 * limit, the instance a call names (InstanceName, in the query or the form body), the hits of a search
 * answer and the vendor's error answer for an upstream that fails.
 */
import { failureError, jsonOf, numeric, SEP } from '../migration/wire';
import type { MigrationHooks } from '../vendor';
import { newRequestId, sendError, toAlibabaError } from './errors';
import { BODY_LIMIT } from './limits';
import { FORM, rawQuery } from './index';
import { mergeParams, parseForm } from './params';
import { callKind } from './routes';

export const MIGRATION: MigrationHooks = {
  bodyLimit: () => BODY_LIMIT,
  needsBody: (req) => req.method === 'POST' && FORM.test(req.headers['content-type'] ?? ''),
  classify(req, body) {
    const form = body && FORM.test(req.headers['content-type'] ?? '') ? parseForm(body.toString('utf8')) : [];
    const params = mergeParams(parseForm(rawQuery(req)), form);
    const header = req.headers['x-acs-action'];
    const action = params.Action ?? (typeof header === 'string' ? header : '');
    return { libraries: params.InstanceName !== undefined ? [params.InstanceName] : [], kind: callKind(action) };
  },
  hits(status, body) {
    const auctions = status === 200 ? jsonOf(body)?.Auctions : undefined;
    if (!Array.isArray(auctions)) return undefined;
    return auctions.map((a: any) => ({ key: `${a.ProductId}${SEP}${a.PicName}`, score: numeric(a.Score) }));
  },
  succeeded: (status, body) => status === 200 && jsonOf(body)?.Success !== false,
  sendFailure(req, res, failure) {
    const requestId = newRequestId();
    res.setHeader('x-acs-request-id', requestId);
    sendError(res, toAlibabaError(failureError(req, failure, BODY_LIMIT)), requestId, req.headers.host);
  },
};
