/**
 * Images as Alibaba requests carry them: `PicContent` as Base64, or as an http(s) URL (the *Advance flow
 * passes the URL of the object it just uploaded, which is read back from the upload store; other URLs go
 * through core's SSRF-guarded fetcher). A picture is checked once (engine.prepareImage) and that prepared
 * image serves region resolution, category prediction and the add or search. Regions are "x1,x2,y1,y2" strings.
 */
import type { Engine, PreparedImage } from '../../core/engine';
import { ImageInvalidError } from '../../core/errors';
import { decodeImageData } from '../../core/image';
import type { ImageLimits } from '../../core/image/types';
import type { Region } from '../../core/records';
import { AlibabaError, imageError } from './errors';
import { PICTURE_LIMITS } from './limits';

export interface ImageSources {
  /** Bytes of an object uploaded through the *Advance flow, by its URL; undefined when not one. */
  uploaded(url: string, tenant: string): Promise<Buffer | undefined>;
  fetch(url: string): Promise<Buffer>;
}

const URL_VALUE = /^https?:\/\//i;

/** The image bytes of PicContent (or Primary/SecondaryPicContent, named by `field`). */
export async function pictureBytes(value: string, field: string, tenant: string, sources: ImageSources): Promise<Buffer> {
  try {
    return URL_VALUE.test(value) ? ((await sources.uploaded(value, tenant)) ?? (await sources.fetch(value))) : decodeImageData(value, { allowDataUri: false });
  } catch (e) {
    if (e instanceof ImageInvalidError) throw imageError(e, field);
    throw e;
  }
}

/** A request's picture checked once (PICTURE_LIMITS unless told otherwise); refusals in the vendor's words. */
export function preparePicture(engine: Pick<Engine, 'prepareImage'>, bytes: Buffer, limits: ImageLimits = PICTURE_LIMITS): Promise<PreparedImage> {
  return engine.prepareImage({ bytes, limits }).catch((e) => {
    throw e instanceof ImageInvalidError ? imageError(e) : e;
  });
}

/** "x1,x2,y1,y2" → a region (x2 > x1, y2 > y1, else InvalidRegion). */
export function parseRegion(text: string): Region {
  const [x1, x2, y1, y2] = text.split(',').map((s) => Number(s.trim()));
  if (![x1, x2, y1, y2].every(Number.isSafeInteger) || x2 <= x1 || y2 <= y1) throw new AlibabaError('InvalidRegion');
  return { left: x1, top: y1, width: x2 - x1, height: y2 - y1 };
}

export function formatRegion(r: Region): string {
  return `${r.left},${r.left + r.width},${r.top},${r.top + r.height}`;
}

export interface ResolvedRegion {
  /** What is embedded: the given region, the main subject (Crop), or the whole image. */
  region: Region;
  /** Every subject found (PicInfo.MultiRegion); the region alone when one was given. */
  multi: Region[];
}

/**
 * The region an image is embedded from: `Region` when given (whatever Crop says), else with Crop the main
 * detected subject, else (or when nothing stands out) the whole image.
 */
export async function resolveRegion(engine: Pick<Engine, 'detectSubjects'>, image: PreparedImage, crop: boolean, regionText: string | undefined): Promise<ResolvedRegion> {
  const { width, height } = image.checked;
  const whole: Region = { left: 0, top: 0, width, height };
  if (regionText !== undefined) {
    const region = parseRegion(regionText);
    if (region.left >= width || region.top >= height) throw new AlibabaError('InvalidRegion');
    return { region, multi: [region] };
  }
  if (!crop) return { region: whole, multi: [whole] };
  const subjects = await engine.detectSubjects(image, 5);
  return subjects.length > 0 ? { region: subjects[0], multi: subjects } : { region: whole, multi: [whole] };
}
