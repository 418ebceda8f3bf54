export {
  SpatialIndex, parseSpatialFile, toLabel,
  type SpatialIndexInfo, type SpatialIndexDb, type SpatialIndexOptions, type SpatialQueryOptions, type SpatialFile,
} from "./spatial-index.js";
export { openSpatialIndex, spatialIndexDir, type SpatialIndexKind, type OpenSpatialIndexOptions } from "./open.js";
