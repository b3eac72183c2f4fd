/** `agegender/io`: image decoding (sharp; HEIC through libheif in WebAssembly) and input normalisation. */
export * from '../io/types.js';
export * from '../io/decode.js';
export * from '../io/fetch.js';
