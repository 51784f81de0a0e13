/**
 * The scenario's images: small PNGs drawn by sharp from fixed SVG, so every run sends the same bytes (for a
 * given sharp build) and no file ships with the project. Three unrelated pictures and a near copy of the
 * first, which a search by image should rank first.
 */
import sharp from 'sharp';

export const IMAGE_NAMES = ['red-circle', 'blue-square', 'green-stripes', 'red-circle-shifted'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

const SIZE = 256;

const SVG: Record<ImageName, string> = {
  'red-circle': `<rect width="256" height="256" fill="#f4f1ea"/><circle cx="128" cy="128" r="80" fill="#d22b2b"/>`,
  'blue-square': `<rect width="256" height="256" fill="#202830"/><rect x="58" y="58" width="140" height="140" fill="#2f6fd6"/>`,
  'green-stripes': Array.from({ length: 8 }, (_, i) => `<rect x="${i * 32}" width="16" height="256" fill="#2e9e4f"/>`).join(''),
  'red-circle-shifted': `<rect width="256" height="256" fill="#f4f1ea"/><circle cx="136" cy="124" r="78" fill="#cf2d2d"/>`,
};

/** Base64 of each image's PNG bytes. */
export async function scenarioImages(): Promise<Record<ImageName, string>> {
  const out = {} as Record<ImageName, string>;
  for (const name of IMAGE_NAMES) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" style="background:#ffffff">${SVG[name]}</svg>`;
    const png = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png({ compressionLevel: 9 }).toBuffer();
    out[name] = png.toString('base64');
  }
  return out;
}

/** The known values that name the images in a recording. */
export function imageTokens(images: Record<ImageName, string>): Array<[string, string]> {
  return IMAGE_NAMES.map((name) => [images[name], `<image:${name}>`]);
}
