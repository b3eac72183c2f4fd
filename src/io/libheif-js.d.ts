// Types for the part of `libheif-js` used here (libheif compiled to WebAssembly; the package's own
// .d.ts covers only the raw emscripten exports, not the HeifDecoder/HeifImage wrappers).
declare module 'libheif-js/wasm-bundle.js' {
  /** One top-level image of a HEIF file: sized from its header, decoded on `display`. */
  export interface HeifImage {
    get_width(): number;
    get_height(): number;
    is_primary(): boolean;
    /** Decodes into `target.data` (width × height × 4, RGBA) and calls back with `target`, or with null on failure. */
    display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: unknown) => void): void;
    free(): void;
  }
  export interface HeifDecoder {
    /** The libheif context of the last `decode` (an embind handle). */
    decoder: { delete(): void } | null;
    /** Reads the file: every top-level image, or [] when it cannot (the reason goes to console.log). */
    decode(bytes: Uint8Array): HeifImage[];
  }
  const libheif: { HeifDecoder: new () => HeifDecoder; ready?: Promise<unknown> };
  export default libheif;
}
