import sharp from 'sharp';
import { checkImage, detectSubject, detectSubjects, type CheckedImage, type Region } from '../../core/image';

function iou(a: Region, b: Region): number {
  const ix = Math.max(0, Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left));
  const iy = Math.max(0, Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top));
  const inter = ix * iy;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

interface Shape extends Region {
  colour: string;
  round?: boolean;
}

/** An image of shapes on a background, as PNG (or JPEG) bytes, checked. */
async function scene(
  width: number,
  height: number,
  shapes: Shape[],
  opts: { background?: string; format?: 'png' | 'jpeg' } = {},
): Promise<CheckedImage> {
  const body = shapes
    .map((s) =>
      s.round
        ? `<ellipse cx="${s.left + s.width / 2}" cy="${s.top + s.height / 2}" rx="${s.width / 2}" ry="${s.height / 2}" fill="${s.colour}"/>`
        : `<rect x="${s.left}" y="${s.top}" width="${s.width}" height="${s.height}" fill="${s.colour}"/>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="${opts.background ?? '#ffffff'}"/>${body}</svg>`;
  const bytes = await sharp(Buffer.from(svg)).toFormat(opts.format ?? 'png').toBuffer();
  return checkImage(bytes, {});
}

describe('detectSubject', () => {
  it('finds a red square on white', async () => {
    const square: Shape = { left: 150, top: 100, width: 100, height: 100, colour: '#e01010' };
    const region = await detectSubject(await scene(400, 300, [square]));
    expect(region).toBeDefined();
    expect(iou(region!, square)).toBeGreaterThanOrEqual(0.8);
    // The box contains the square (the margin is outside it).
    expect(region!.left).toBeLessThanOrEqual(150);
    expect(region!.top).toBeLessThanOrEqual(100);
    expect(region!.left + region!.width).toBeGreaterThanOrEqual(250);
    expect(region!.top + region!.height).toBeGreaterThanOrEqual(200);
  });

  it('finds a subject on a coloured background, in a JPEG', async () => {
    const shape: Shape = { left: 500, top: 120, width: 300, height: 420, colour: '#203060', round: true };
    const region = await detectSubject(
      await scene(1000, 700, [shape], { background: '#d8d0c0', format: 'jpeg' }),
    );
    expect(region).toBeDefined();
    expect(iou(region!, shape)).toBeGreaterThanOrEqual(0.8);
  });

  it('finds a subject that touches the image border', async () => {
    const shape: Shape = { left: 100, top: 150, width: 200, height: 150, colour: '#008000' };
    const region = await detectSubject(await scene(400, 300, [shape]));
    expect(region).toBeDefined();
    expect(iou(region!, shape)).toBeGreaterThanOrEqual(0.8);
  });

  it('finds a white subject on white by its outline', async () => {
    const outlined = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300">
      <rect width="100%" height="100%" fill="#fff"/>
      <rect x="80" y="60" width="140" height="160" fill="#fafafa" stroke="#222" stroke-width="4"/></svg>`;
    const checked = await checkImage(await sharp(Buffer.from(outlined)).png().toBuffer(), {});
    const region = await detectSubject(checked);
    expect(region).toBeDefined();
    expect(iou(region!, { left: 78, top: 58, width: 144, height: 164 })).toBeGreaterThanOrEqual(0.8);
  });

  it('answers in oriented pixels', async () => {
    // Stored 400 x 200 with a square at the left; EXIF 6 turns it a quarter clockwise: displayed 200 x 400,
    // the square at the top.
    const stored = await sharp(
      Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">
        <rect width="100%" height="100%" fill="#fff"/><rect x="20" y="50" width="100" height="100" fill="#c00"/></svg>`),
    )
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const checked = await checkImage(stored, {});
    expect([checked.width, checked.height]).toEqual([200, 400]);
    const region = await detectSubject(checked);
    expect(region).toBeDefined();
    expect(iou(region!, { left: 50, top: 20, width: 100, height: 100 })).toBeGreaterThanOrEqual(0.8);
  });

  it('finds nothing in a blank or near-uniform image', async () => {
    expect(await detectSubject(await scene(300, 200, []))).toBeUndefined();
    expect(await detectSubject(await scene(300, 200, [], { background: '#4080c0' }))).toBeUndefined();
    const nearUniform = await sharp({
      create: { width: 300, height: 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 180, sigma: 2 } },
    })
      .png()
      .toBuffer();
    expect(await detectSubject(await checkImage(nearUniform, {}))).toBeUndefined();
  });

  it('finds nothing in structureless noise', async () => {
    for (const size of [128, 400]) {
      const noise = await sharp({
        create: { width: size, height: size, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } },
      })
        .png()
        .toBuffer();
      expect(await detectSubject(await checkImage(noise, {}))).toBeUndefined();
    }
  });

  it('ignores a speck under 1 % of the image', async () => {
    expect(await detectSubject(await scene(400, 400, [{ left: 200, top: 200, width: 20, height: 20, colour: '#000' }]))).toBeUndefined();
  });

  it('finds nothing in a tiny image', async () => {
    const tiny = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer();
    expect(await detectSubject(await checkImage(tiny, {}))).toBeUndefined();
  });

  it('is deterministic', async () => {
    const checked = await scene(640, 480, [
      { left: 100, top: 80, width: 220, height: 300, colour: '#336699', round: true },
      { left: 400, top: 200, width: 120, height: 120, colour: '#aa2200' },
    ], { format: 'jpeg' });
    const first = await detectSubjects(checked, 5);
    for (let i = 0; i < 3; i++) expect(await detectSubjects(checked, 5)).toEqual(first);
  });
});

describe('detectSubjects', () => {
  it('finds two separated objects, largest first', async () => {
    const big: Shape = { left: 40, top: 60, width: 200, height: 200, colour: '#d02020' };
    const small: Shape = { left: 380, top: 120, width: 140, height: 120, colour: '#2030c0', round: true };
    const checked = await scene(600, 360, [big, small]);
    const regions = await detectSubjects(checked, 5);
    expect(regions).toHaveLength(2);
    expect(iou(regions[0], big)).toBeGreaterThanOrEqual(0.8);
    expect(iou(regions[1], small)).toBeGreaterThanOrEqual(0.8);
    expect(await detectSubjects(checked, 1)).toEqual([regions[0]]);
    expect(await detectSubject(checked)).toEqual(regions[0]);
  });

  it('returns an empty list for a blank image', async () => {
    expect(await detectSubjects(await scene(200, 200, []), 3)).toEqual([]);
  });
});
