/**
 * How Alibaba keys and attributes map onto core records (docs/compatibility/alibaba.md, "Keys"):
 *   record.id     = ProductId + U+001F + PicName   (the vendor's key; re-adding the pair overwrites)
 *   record.itemId = ProductId                      (DistinctProductId = core's distinct-by-item)
 *   record.tags   = int_attr..int_attr4 (numbers), str_attr..str_attr4 (strings): the Filter field names
 *   record.extra.alibaba = { CategoryId, CustomContent }
 * U+001F cannot occur in either key (the schemas refuse control characters). Records added through other
 * APIs read back with ProductId = itemId (else the part of the id before U+001F, else the id) and PicName =
 * the part after U+001F (else the uri, else the id): the operator's (image_id, image_uri) pair, for one.
 */
import type { ImageRecord, Tags } from '../../core/records';
import { OTHER_CATEGORY } from './category';

const SEPARATOR = '\u001f';

export function imageId(productId: string, picName: string): string {
  return `${productId}${SEPARATOR}${picName}`;
}

/** Request parameter → tag name: IntAttr → int_attr, StrAttr3 → str_attr3. */
export const ATTRIBUTES = {
  IntAttr: 'int_attr',
  IntAttr2: 'int_attr2',
  IntAttr3: 'int_attr3',
  IntAttr4: 'int_attr4',
  StrAttr: 'str_attr',
  StrAttr2: 'str_attr2',
  StrAttr3: 'str_attr3',
  StrAttr4: 'str_attr4',
} as const;

export type AttributeParams = Partial<Record<keyof typeof ATTRIBUTES, number | string>>;

export interface AlibabaExtra {
  CategoryId?: number;
  CustomContent?: string;
}

/** The attribute parameters present in a request, as tags. */
export function attributeTags(params: AttributeParams): Tags {
  const tags: Tags = {};
  for (const [param, tag] of Object.entries(ATTRIBUTES)) {
    const value = params[param as keyof typeof ATTRIBUTES];
    if (value !== undefined) tags[tag] = value;
  }
  return tags;
}

export function alibabaExtra(record: ImageRecord): AlibabaExtra {
  return ((record.extra?.alibaba as AlibabaExtra | undefined) ?? {});
}

/** The Alibaba keys of any record, including ones added through other vendors' APIs. */
export function alibabaKeys(record: ImageRecord): { ProductId: string; PicName: string } {
  const cut = record.id.indexOf(SEPARATOR);
  return {
    ProductId: record.itemId ?? (cut >= 0 ? record.id.slice(0, cut) : record.id),
    PicName: cut >= 0 ? record.id.slice(cut + 1) : (record.uri ?? record.id),
  };
}

/**
 * An image as the Auctions of every action show it. Unset CustomContent and attributes are left out
 * (UNVERIFIED whether the vendor sends them empty).
 */
export function auctionOf(record: ImageRecord): Record<string, string | number> {
  const extra = alibabaExtra(record);
  const out: Record<string, string | number> = { ...alibabaKeys(record), CategoryId: extra.CategoryId ?? OTHER_CATEGORY };
  if (extra.CustomContent !== undefined) out.CustomContent = extra.CustomContent;
  for (const [param, tag] of Object.entries(ATTRIBUTES)) {
    const value = record.tags[tag];
    if (param.startsWith('Int') ? typeof value === 'number' : typeof value === 'string') out[param] = value as string | number;
  }
  return out;
}
