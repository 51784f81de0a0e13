/**
 * What the migration layer must know of each vendor's wire protocol, and nothing more: which requests are
 * the vendor's (the same split adapters/app.ts makes), which libraries a request addresses, whether it is a
 * search or a write, the result ids and scores of a search answer, and the vendor's own error for an
 * upstream that cannot be reached or does not answer in time.
 *
 * Vendor facts are read from the adapters (prefixes, body limits, error tables), never restated here.
 */
import type { Request, Response } from 'express';
import { UnavailableError } from '../../core/errors';
import { BodyTooLargeError } from '../http/raw-body';
import { newRequestId, sendError as sendAlibabaError, toAlibabaError } from '../alibaba/errors';
import { BODY_LIMIT as ALIBABA_BODY_LIMIT } from '../alibaba/limits';
import { mergeParams, parseForm, type ParamPairs } from '../alibaba/params';
import { IAM_TOKENS_PATH } from '../huawei';
import { toHuaweiAnswer } from '../huawei/errors';
import { AKSK_BODY_LIMIT, TOKEN_BODY_LIMIT } from '../huawei/limits';
import { ALGORITHM, headerValue } from '../huawei/signer';
import { toOperatorError } from '../operator/errors';
import { BODY_LIMIT as OPERATOR_BODY_LIMIT, PREFIX as OPERATOR_PREFIX } from '../operator/limits';
import { toQiniuError } from '../qiniu/errors';
import { BODY_LIMIT as QINIU_BODY_LIMIT, PREFIX as QINIU_PREFIX } from '../qiniu/limits';

export const VENDORS = ['huawei', 'alibaba', 'qiniu', 'operator'] as const;
export type VendorName = (typeof VENDORS)[number];

/** search: answers are compared in shadow mode; write: replayed locally in order; other: replayed, not compared. */
export type CallKind = 'search' | 'write' | 'other';

export interface Call {
  /** The instance / group / library names the request addresses (empty: none, e.g. a list of groups). */
  libraries: string[];
  kind: CallKind;
}

/** One result of a search answer: a key unique within the answer, and its score. */
export interface Hit {
  key: string;
  score: number;
}

/** Why the gateway answers instead of the upstream. */
export type UpstreamFailure = 'timeout' | 'unreachable' | 'too_large';

export interface VendorRules {
  name: VendorName;
  /** The request is this vendor's (decided on method, path and headers: the body is not read yet). */
  owns(req: Request): boolean;
  /** The largest body the vendor's adapter accepts for this request. */
  bodyLimit(req: Request): number;
  /** Whether the library names are (possibly) in the body. */
  needsBody(req: Request): boolean;
  classify(req: Request, body: Buffer | undefined): Call;
  /** The hits of a successful search answer; undefined when the answer is not one. */
  hits(status: number, body: Buffer): Hit[] | undefined;
  /** Whether an answer is the vendor's success. */
  succeeded(status: number, body: Buffer): boolean;
  /** Answer in the vendor's own error shape (core's `unavailable`, or the body limit). */
  sendFailure(req: Request, res: Response, failure: UpstreamFailure): void;
}

const SEP = '\u001f';

function json(body: Buffer | undefined): any {
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function failureError(req: Request, failure: UpstreamFailure, limit: number): Error {
  if (failure === 'too_large') return new BodyTooLargeError(limit);
  return new UnavailableError(failure === 'timeout' ? 'the upstream did not answer in time' : 'the upstream cannot be reached');
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function numeric(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

// ---- operator ----------------------------------------------------------------------------------------

const OPERATOR_SEARCHES = new Set(['/search/by-image', '/search/by-text']);
const OPERATOR_WRITES = new Set(['/image/add', '/image/delete', '/image/tasks/create', '/library/create', '/library/delete']);

const operator: VendorRules = {
  name: 'operator',
  owns: (req) => req.path === OPERATOR_PREFIX || req.path.startsWith(`${OPERATOR_PREFIX}/`),
  bodyLimit: () => OPERATOR_BODY_LIMIT,
  needsBody: (req) => req.method === 'POST',
  classify(req, body) {
    const route = req.path.slice(OPERATOR_PREFIX.length);
    const name = json(body)?.library_name;
    return {
      libraries: typeof name === 'string' ? [name] : [],
      kind: OPERATOR_SEARCHES.has(route) ? 'search' : OPERATOR_WRITES.has(route) ? 'write' : 'other',
    };
  },
  hits(status, body) {
    const results = status === 200 ? json(body)?.data?.results : undefined;
    if (!Array.isArray(results)) return undefined;
    return results.map((r: any) => ({ key: `${r.image_id}${SEP}${r.image_uri}`, score: numeric(r.score) }));
  },
  succeeded: (status, body) => status === 200 && json(body)?.status === 'SUCCESS',
  sendFailure(req, res, failure) {
    const error = toOperatorError(failureError(req, failure, OPERATOR_BODY_LIMIT));
    res.status(error.http).json({ status: error.status, message: error.message, data: null });
  },
};

// ---- qiniu -------------------------------------------------------------------------------------------

const QINIU_GROUP = /^\/group\/([^/]+)(?:\/(new|remove|add|delete|info|image|search))?$/;
const QINIU_WRITES = new Set(['new', 'remove', 'add', 'delete']);

const qiniu: VendorRules = {
  name: 'qiniu',
  owns: (req) => req.path === QINIU_PREFIX || req.path.startsWith(`${QINIU_PREFIX}/`),
  bodyLimit: () => QINIU_BODY_LIMIT,
  needsBody: (req) => req.path === `${QINIU_PREFIX}/groups/search`,
  classify(req, body) {
    const route = req.path.slice(QINIU_PREFIX.length);
    if (route === '/groups/search') {
      const groups = json(body)?.params?.groups;
      return { libraries: Array.isArray(groups) ? [...new Set(groups.filter((g: unknown): g is string => typeof g === 'string'))] : [], kind: 'search' };
    }
    const m = QINIU_GROUP.exec(route);
    if (!m) return { libraries: [], kind: 'other' };
    const op = m[2];
    return { libraries: [decode(m[1])], kind: op === 'search' ? 'search' : op && QINIU_WRITES.has(op) ? 'write' : 'other' };
  },
  hits(status, body) {
    if (status !== 200) return undefined;
    const answer = json(body);
    if (!answer || !('result' in answer)) return undefined;
    const result = answer.result ?? []; // the multi-group search answers "result": null when nothing matched
    if (!Array.isArray(result)) return undefined;
    return result.map((r: any) => ({ key: `${r.group ?? ''}${SEP}${r.id}`, score: numeric(r.score) }));
  },
  succeeded: (status) => status === 200,
  sendFailure(req, res, failure) {
    const error = toQiniuError(failureError(req, failure, QINIU_BODY_LIMIT));
    res.status(error.http).json({ error: error.message });
  },
};

// ---- huawei ------------------------------------------------------------------------------------------

const HUAWEI_SERVICE = /^\/v1\/[^/]+\/service(?:\/([^/]+))?$/;
const HUAWEI_CREATE = /^\/v1\/[^/]+\/service$/;
const HUAWEI_IMAGE = /^\/v1\/[^/]+\/([^/]+)\/image(?:\/(search|check))?$/;

const huawei: VendorRules = {
  name: 'huawei',
  owns(req) {
    if (!req.path.startsWith('/v1/') || qiniu.owns(req) || req.path === IAM_TOKENS_PATH) return false;
    // Another vendor's Authorization scheme is not Huawei's (as adapters/huawei/index.ts decides).
    const authorization = headerValue(req.rawHeaders, 'authorization');
    return authorization === undefined || authorization.startsWith(ALGORITHM);
  },
  bodyLimit: (req) => (headerValue(req.rawHeaders, 'authorization') !== undefined ? AKSK_BODY_LIMIT : TOKEN_BODY_LIMIT),
  needsBody: (req) => req.method === 'POST' && HUAWEI_CREATE.test(req.path),
  classify(req, body) {
    const service = HUAWEI_SERVICE.exec(req.path);
    if (service) {
      const name = service[1] !== undefined ? decode(service[1]) : json(body)?.name;
      const write = req.method === 'POST' || req.method === 'DELETE';
      return { libraries: typeof name === 'string' ? [name] : [], kind: write ? 'write' : 'other' };
    }
    const image = HUAWEI_IMAGE.exec(req.path);
    if (!image) return { libraries: [], kind: 'other' };
    const kind: CallKind = image[2] === 'search' ? 'search' : image[2] === 'check' ? 'other' : 'write';
    return { libraries: [decode(image[1])], kind };
  },
  hits(status, body) {
    const result = status === 200 ? json(body)?.result : undefined;
    if (!Array.isArray(result)) return undefined;
    return result.map((r: any) => ({ key: String(r.path), score: numeric(r.sim) }));
  },
  succeeded: (status) => status === 200,
  sendFailure(req, res, failure) {
    const answer = toHuaweiAnswer(failureError(req, failure, huawei.bodyLimit(req)));
    if (answer.kind === 'gateway') res.status(answer.error.http).json({ error_msg: answer.error.msg, error_code: answer.error.code, request_id: req.id });
    else res.status(400).json({ error_code: answer.error.code, error_msg: answer.error.msg });
  },
};

// ---- alibaba -----------------------------------------------------------------------------------------

const FORM = /^application\/x-www-form-urlencoded/i;
const ALIBABA_WRITES = new Set(['AddImage', 'DeleteImage', 'UpdateImage', 'IncreaseInstance']);

function queryPairs(req: Request): ParamPairs {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  return q < 0 ? [] : parseForm(url.slice(q + 1));
}

const alibaba: VendorRules = {
  name: 'alibaba',
  owns(req) {
    if (req.path !== '/' || (req.method !== 'GET' && req.method !== 'POST')) return false;
    const named = req.headers['x-acs-action'] !== undefined || queryPairs(req).some(([k]) => k === 'Action' || k === 'Signature');
    // A multipart POST is the OSS upload of the *Advance flow: always the gateway's own.
    return named || (req.method === 'POST' && FORM.test(req.headers['content-type'] ?? ''));
  },
  bodyLimit: () => ALIBABA_BODY_LIMIT,
  needsBody: (req) => req.method === 'POST' && FORM.test(req.headers['content-type'] ?? ''),
  classify(req, body) {
    const form = body && FORM.test(req.headers['content-type'] ?? '') ? parseForm(body.toString('utf8')) : [];
    const params = mergeParams(queryPairs(req), form);
    const header = req.headers['x-acs-action'];
    const action = params.Action ?? (typeof header === 'string' ? header : '');
    const kind: CallKind = action.startsWith('SearchImageBy') ? 'search' : ALIBABA_WRITES.has(action) ? 'write' : 'other';
    return { libraries: params.InstanceName !== undefined ? [params.InstanceName] : [], kind };
  },
  hits(status, body) {
    const auctions = status === 200 ? json(body)?.Auctions : undefined;
    if (!Array.isArray(auctions)) return undefined;
    return auctions.map((a: any) => ({ key: `${a.ProductId}${SEP}${a.PicName}`, score: numeric(a.Score) }));
  },
  succeeded: (status, body) => status === 200 && json(body)?.Success !== false,
  sendFailure(req, res, failure) {
    const requestId = newRequestId();
    res.setHeader('x-acs-request-id', requestId);
    sendAlibabaError(res, toAlibabaError(failureError(req, failure, ALIBABA_BODY_LIMIT)), requestId, req.headers.host);
  },
};

/** In the order adapters/app.ts offers requests to the adapters. */
export const VENDOR_RULES: readonly VendorRules[] = [operator, alibaba, qiniu, huawei];
