/**
 * Product-like test images: one coloured shape on a plain background (what item_search expects), and a
 * blank image with no subject at all. Deterministic.
 */
import sharp from 'sharp';

export type Shape = 'circle' | 'square' | 'triangle' | 'ring';

export async function productImage(color: string, shape: Shape, opts: { width?: number; height?: number; background?: string; format?: 'jpeg' | 'png' } = {}): Promise<Buffer> {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const cx = width / 2;
  const cy = height / 2;
  const r = Math.min(width, height) / 4;
  const figure = {
    circle: `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${color}"/>`,
    square: `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`,
    triangle: `<polygon points="${cx},${cy - r} ${cx + r},${cy + r} ${cx - r},${cy + r}" fill="${color}"/>`,
    ring: `<circle cx="${cx}" cy="${cy}" r="${r}" fill="none" stroke="${color}" stroke-width="${r / 3}"/>`,
  }[shape];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${opts.background ?? '#ffffff'}"/>${figure}</svg>`;
  const img = sharp(Buffer.from(svg));
  return opts.format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

export function blankImage(width = 400, height = 300, color = '#f0f0f0'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } }).jpeg().toBuffer();
}
