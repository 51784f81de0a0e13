import { ImageInvalidError } from '../../core/errors';

/** The ImageInvalidError a promise rejects with (anything else fails the test). */
export async function imageErrorOf(p: Promise<unknown>): Promise<ImageInvalidError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ImageInvalidError) return e;
    throw e;
  }
  throw new Error('expected an ImageInvalidError');
}
