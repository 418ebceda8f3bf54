/** Constants the plugin descriptor needs, kept apart so it does not pull in the codec. */
export const JPEG_NAME = "jpeg";
export const JPEG_PACKAGE = "@cloudvolume/codec-jpeg";
/** CloudVolume's quality when the scale has no `jpeg_quality` (chunks.py encode_jpeg). */
export const DEFAULT_JPEG_QUALITY = 85;
