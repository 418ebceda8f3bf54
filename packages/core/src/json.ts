/**
 * JSON with object keys sorted and two-space indentation, undefined members dropped: the
 * form CloudVolume writes metadata in (`json.dumps(..., sort_keys=True, indent=2)`), so
 * files we write compare byte for byte with its own.
 */
export function serializeJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object" && !ArrayBuffer.isView(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const val = (v as Record<string, unknown>)[k];
      if (val !== undefined) out[k] = sortKeys(val);
    }
    return out;
  }
  return v;
}
