/**
 * Public HTTPS endpoints of the cloud protocols, as CloudFiles' to_https_protocol
 * maps them for CloudVolume's `use_https=True`: path-style URLs on each service's
 * global endpoint, readable without credentials when the bucket is public.
 */
export const PUBLIC_HTTPS_ENDPOINTS: Readonly<Record<string, string>> = {
  gs: "https://storage.googleapis.com/",
  s3: "https://s3.amazonaws.com/",
  matrix: "https://s3-hpcrc.rc.princeton.edu/",
};

const CLOUDPATH = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)([a-z][a-z0-9+.-]*):\/\/(.*)$/i;

/**
 * `gs://bucket/path` -> `https://storage.googleapis.com/bucket/path`, `s3://bucket/path`
 * -> `https://s3.amazonaws.com/bucket/path` (and matrix://), keeping a format prefix
 * (`precomputed://gs://b/p` -> `precomputed://https://storage.googleapis.com/b/p`).
 * Anything else is returned unchanged, including `s3://https://endpoint/...`, which
 * already names its endpoint (CloudFiles leaves it alone too).
 */
export function toHttpsUrl(cloudpath: string): string {
  const m = CLOUDPATH.exec(cloudpath.trim());
  if (!m) return cloudpath;
  let [, format, protocol, rest] = m;
  protocol = protocol.toLowerCase();
  // `gs://...` alone: the first group matched nothing and `protocol` is gs. But for
  // `gs://https://...` the regex sees format "gs://" and protocol "https": no rewrite.
  if (format !== "" && PUBLIC_HTTPS_ENDPOINTS[format.slice(0, -3).toLowerCase()] !== undefined) return cloudpath;
  const endpoint = PUBLIC_HTTPS_ENDPOINTS[protocol];
  if (endpoint === undefined || /^https?:\/\//i.test(rest)) return cloudpath;
  return `${format}${endpoint}${rest.replace(/^\/+/, "")}`;
}
