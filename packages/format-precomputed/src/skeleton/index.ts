export {
  Skeleton, IDENTITY_TRANSFORM, type SkeletonInit, type VertexAttributeSpec, type AttributeArray, type Space,
} from "./skeleton.js";
export { decodeSkeleton, encodeSkeleton, DEFAULT_VERTEX_ATTRIBUTES, type AttributeDataType } from "./binary.js";
export { SkeletonSource, type SkeletonInfo, type SkeletonHost, type SkeletonUploadOptions } from "./source.js";
