// Types for `heic-decode` (the package ships none): HEIC/HEIF decoding on libheif compiled to WebAssembly.
declare module 'heic-decode' {
  interface HeicInput {
    buffer: Uint8Array;
  }
  interface DecodedHeic {
    width: number;
    height: number;
    /** width × height × 4 bytes, RGBA. */
    data: Uint8ClampedArray;
  }
  interface HeicImage {
    width: number;
    height: number;
    decode(): Promise<DecodedHeic>;
  }
  /** Every top-level image of the file, sized but not yet decoded; call `dispose()` when done. */
  type HeicImages = HeicImage[] & { dispose(): void };
  function decode(input: HeicInput): Promise<DecodedHeic>;
  namespace decode {
    function all(input: HeicInput): Promise<HeicImages>;
  }
  export default decode;
}
