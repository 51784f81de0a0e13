/**
 * Huawei `tags` ({key: value}) → core filter: an image matches when it carries every given key with
 * exactly the given value (UNVERIFIED: the vendor does not state the matching rule).
 */
import { f, type Filter } from '../../core/filter';

export type HuaweiTags = Record<string, string>;

export function tagsFilter(tags: HuaweiTags | undefined): Filter | undefined {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return undefined;
  return f.and(...entries.map(([key, value]) => f.cmp(key, '=', value)));
}
