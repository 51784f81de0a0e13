/**
 * How Qiniu words map onto core records. A group is a library of the tenant (created by `new` in
 * general_search mode with the vendor's capacity). An image's `attribute.id` is the record id; an http(s)
 * `uri` is record.uri (a data URI stores none); `label`, `desc` (any JSON) and the etag of inline images
 * live in record.extra.qiniu. Answers show only the documented `desc` and `label` (a strict client decoder
 * refuses any other field); the uri and etag stay in the record for export and migration. Records added
 * through other vendors' APIs read with label "" and desc "".
 */
import { randomBytes } from 'node:crypto';
import type { ImageRecord } from '../../core/records';

export interface QiniuExtra {
  label?: string;
  desc?: unknown;
  etag?: string;
}

/** The extra bag of a new record. */
export function qiniuExtra(extra: QiniuExtra): Record<string, unknown> {
  return { qiniu: extra };
}

/** An image as every Qiniu answer describes it (search hit, list entry, image info): the page's fields, no more. */
export interface QiniuImageView {
  desc: unknown;
  label: string;
}

export function imageView(record: ImageRecord): QiniuImageView {
  const extra = (record.extra?.qiniu ?? {}) as QiniuExtra;
  return {
    // The document shows "desc": "" for images stored without one.
    desc: extra.desc === undefined ? '' : extra.desc,
    label: typeof extra.label === 'string' ? extra.label : '',
  };
}

/** A random id for an image sent without attribute.id (the vendor's server uses a request-id style string). */
export function generatedImageId(): string {
  return randomBytes(12).toString('base64url');
}
