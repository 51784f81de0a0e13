import sharp from 'sharp';
import { readJpegHeader } from '../../core/image/jpeg-header';
import { makeScene } from '../helpers/synthetic-images';

/** The JS header reader must agree with libvips wherever it answers. */
describe('readJpegHeader', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('size and EXIF orientation %i agree with sharp', async (orientation) => {
    const jpeg = await sharp(await makeScene(orientation, 320, 200)).withMetadata({ orientation }).jpeg().toBuffer();
    const meta = await sharp(jpeg).metadata();
    expect(readJpegHeader(jpeg)).toEqual({ width: meta.width, height: meta.height, orientation: meta.orientation });
  });

  test('progressive, greyscale and odd sizes agree with sharp', async () => {
    const variants = [
      await sharp(await makeScene(9, 333, 77)).jpeg({ progressive: true }).toBuffer(),
      await sharp(await makeScene(10, 64, 480)).greyscale().jpeg().toBuffer(),
      await sharp(await makeScene(11, 1, 1)).jpeg().toBuffer(),
    ];
    for (const jpeg of variants) {
      const meta = await sharp(jpeg).metadata();
      expect(readJpegHeader(jpeg)).toEqual({ width: meta.width, height: meta.height });
    }
  });

  test('gives up (undefined) on anything it cannot read, for sharp to judge', async () => {
    const jpeg = await makeScene(12, 100, 100);
    expect(readJpegHeader(Buffer.from([0xff, 0xd8]))).toBeUndefined();
    expect(readJpegHeader(jpeg.subarray(0, 20))).toBeUndefined();
    expect(readJpegHeader(Buffer.from('not a jpeg at all'))).toBeUndefined();
    const broken = Buffer.from(jpeg);
    broken[2] = 0x00; // not a marker where one must be
    expect(readJpegHeader(broken)).toBeUndefined();
  });
});
