export { Mesh, applyTransform, invertTransform } from "./mesh.js";
export {
  encodeLegacyFragment, decodeLegacyFragment, toPly, toObj, toJson, encodeMeshFile, formatFloat32, type MeshFileFormat,
} from "./formats.js";
export {
  decodeManifest, encodeManifest, decodeLod, encodeMultires, manifestDataSize, type MultiresManifest, type MultiresEncodeOptions,
} from "./multires.js";
export { decodeDraco, encodeDraco } from "./draco.js";
export { MeshSource, type MeshInfo, type MeshGetOptions, type MeshPutOptions } from "./source.js";
