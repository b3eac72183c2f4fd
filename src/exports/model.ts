/** `agegender/model`: the network, its weights on disk, backends and inference runtimes. */
export * from '../model/index.js';
export * from '../model/api.js';
export * from '../model/ageBins.js';
export * from '../model/backend.js';
export * from '../model/encoder.js';
export * from '../model/net.js';
export * from '../model/folder.js';
export * from '../model/io.js';
export * from '../model/load.js';
export * from '../model/half.js';
export * from '../model/onnx-export.js';
export type { ModelIdentity } from '../model/identity.js';
