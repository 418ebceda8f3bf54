import { CloudVolumeError } from "@cloudvolume/core";

/** JSON for messages: short, and never "undefined" without saying so. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing (the property is missing)";
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

/** INVALID_METADATA naming the metadata file (its storage key) and the property path in it. */
export function invalid(key: string, url: string, path: string, what: string): CloudVolumeError {
  const where = path ? `${path} ` : "";
  return new CloudVolumeError("INVALID_METADATA", `${key} of ${url}: ${where}${what}`, { url, key });
}
