import type { ByteCodec, CompressionPlugin } from "@cloudvolume/core";
import { BZIP2_ALIASES, BZIP2_PACKAGE } from "./bzip2.js";

/** The plugin descriptor; `load` imports the entry's codec lazily. */
export function bzip2Plugin(load: () => Promise<ByteCodec>): CompressionPlugin {
  return { kind: "compression", names: [...BZIP2_ALIASES], package: BZIP2_PACKAGE, load };
}
