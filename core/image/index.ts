/** The image pipeline: sources, format sniffing, validation, decoding, subject detection (URL fetching: core/net/fetch.ts). */
export * from './types';
export { decodeImageData, decodeBase64Strict, isDataUri, type DecodeImageDataOptions } from './source';
export { sniffFormat } from './sniff';
export { assertBmpData, bmpSize, decodeBmp, readBmpHeader, type BmpHeader, type RawImage } from './bmp';
export { assertPnmData, decodePnm, readPnmHeader, type PnmHeader } from './pnm';
export { checkImage, clampRegion, decodeError, decodeImage, decodeWith, openImage, type OpenImageOptions } from './check';
export { decodeBudget, DecodeBudget, DEFAULT_DECODE_BUDGET_BYTES } from './decode-budget';
export { detectSubject, detectSubjects } from './subject';
