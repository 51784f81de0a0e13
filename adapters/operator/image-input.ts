/** Operator images arrive as raw Base64: the vendor forbids the data: prefix, so it is refused here. */
import { InvalidArgumentError } from '../../core/errors';
import { decodeImageData, isDataUri } from '../../core/image';

export function decodeOperatorImage(base64: string, field = 'image_base64'): Buffer {
  if (isDataUri(base64)) throw new InvalidArgumentError(field, `${field} must be raw Base64 without a data: prefix`);
  return decodeImageData(base64, { allowDataUri: false });
}
