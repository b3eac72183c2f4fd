/** Raw interleaved pixels, 8 bits per channel. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Anything the library accepts as an image: a file path, encoded bytes, or raw pixels. */
export type ImageInput = string | Buffer | Uint8Array | RawImage;
