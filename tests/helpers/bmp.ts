/** A 24-bit BMP written by hand (sharp cannot write BMP), top-down rows, each pixel from `rgb(x, y)`. */
export function bmp24(width: number, height: number, rgb: (x: number, y: number) => readonly [number, number, number]): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + stride * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(-height, 22); // negative: top-down rows
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      file.set([b, g, r], 54 + y * stride + x * 3);
    }
  }
  return file;
}
