import { CloudVolumeError } from "@cloudvolume/core";

/** The `provenance` file beside `info` (precomputed notes "Layer and info"). */
export interface Provenance {
  description: string;
  owners: string[];
  processing: unknown[];
  sources: string[];
  [extra: string]: unknown;
}

export function emptyProvenance(): Provenance {
  return { description: "", owners: [], processing: [], sources: [] };
}

/** Parse a provenance document, filling CloudVolume's defaults for absent fields. */
export function parseProvenance(bytes: Uint8Array | string, url?: string): Provenance {
  const text = typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new CloudVolumeError("INVALID_METADATA", `provenance: not valid JSON (${(cause as Error).message})`, { url, key: "provenance", cause });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CloudVolumeError("INVALID_METADATA", "provenance: (root) must be a JSON object", { url, key: "provenance" });
  }
  const p = { ...emptyProvenance(), ...(raw as object) } as Provenance;
  for (const field of ["owners", "processing", "sources"] as const) {
    if (!Array.isArray(p[field])) throw new CloudVolumeError("INVALID_METADATA", `provenance: ${field} must be an array`, { url, key: "provenance" });
  }
  if (typeof p.description !== "string") throw new CloudVolumeError("INVALID_METADATA", "provenance: description must be a string", { url, key: "provenance" });
  return p;
}
