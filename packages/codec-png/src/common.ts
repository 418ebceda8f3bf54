/** Constants the plugin descriptor needs, kept apart so it does not pull in the codec. */
export const PNG_NAME = "png";
export const PNG_PACKAGE = "@cloudvolume/codec-png";
/** CloudVolume's default compress_level when the scale has no `png_level`. */
export const DEFAULT_PNG_LEVEL = 9;
