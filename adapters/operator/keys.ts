/**
 * How operator keys map onto core records. The vendor's primary key is (image_id, image_uri): one
 * image_id may have several image_uri (angles of one product). Core keeps:
 *   record.itemId = image_id, record.uri = image_uri, record.id = image_id + U+001F + image_uri
 * (U+001F cannot appear in either part: the schemas refuse control characters).
 */
import type { ImageRecord } from '../../core/records';

const SEPARATOR = '\u001f';

export function imageKey(imageId: string, imageUri: string): string {
  return `${imageId}${SEPARATOR}${imageUri}`;
}

/** The operator's view of any record, including ones added through other vendors' APIs. */
export function operatorKeys(record: ImageRecord): { image_id: string; image_uri: string } {
  const cut = record.id.indexOf(SEPARATOR);
  return {
    image_id: record.itemId ?? (cut >= 0 ? record.id.slice(0, cut) : record.id),
    image_uri: record.uri ?? (cut >= 0 ? record.id.slice(cut + 1) : ''),
  };
}
