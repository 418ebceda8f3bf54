/** Constants the plugin descriptor needs, kept apart so it does not pull in the codec. */
export const JXL_NAME = "jxl";
export const JXL_PACKAGE = "@cloudvolume/codec-jxl";
/**
 * Without `jxl_quality` we encode losslessly (quality 100). CloudVolume has no info field
 * for this: its encode_jpegxl takes a `level` argument, default 85 (lossy), and is
 * lossless only at level >= 100. We choose lossless for voxel data; set jxl_quality < 100
 * for CloudVolume's trade-off.
 */
export const DEFAULT_JXL_QUALITY = 100;
/** libjxl's default effort (1 fastest .. 9 smallest), which CloudVolume (imagecodecs) uses too. */
export const DEFAULT_JXL_EFFORT = 7;
