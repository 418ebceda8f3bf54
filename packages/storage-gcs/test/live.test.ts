import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { resolveGoogleCredentials, openGcsStore } from "@cloudvolume/storage-gcs";

/**
 * Against real Google Cloud Storage, only when asked for and possible: set
 * CLOUDVOLUME_TEST_GCS_BUCKET to a bucket you may write to, with credentials in
 * $CLOUD_VOLUME_DIR/secrets (or GOOGLE_APPLICATION_CREDENTIALS). Objects go under a
 * random prefix and are deleted afterwards.
 */
const bucket = process.env.CLOUDVOLUME_TEST_GCS_BUCKET;
const creds = bucket ? resolveGoogleCredentials(bucket) : undefined;
const skipReason = !bucket
  ? "set CLOUDVOLUME_TEST_GCS_BUCKET to run them"
  : creds?.kind === "default" && !process.env.GOOGLE_APPLICATION_CREDENTIALS
    ? `no credentials for gs://${bucket} (google-secret.json or GOOGLE_APPLICATION_CREDENTIALS)`
    : undefined;

describe("live Google Cloud Storage", () => {
  if (skipReason !== undefined) {
    it.skip(`skipped: ${skipReason}`, () => undefined);
    return;
  }

  it("put, get (whole, ranged, suffix), getObject encoding, list and delete", async () => {
    const prefix = `cloudvolume-ts-test/${randomBytes(6).toString("hex")}`;
    const store = await openGcsStore({ bucket: bucket!, prefix });
    const data = new Uint8Array(1000).map((_, i) => i & 0xff);
    try {
      await store.put("a/plain", data, { contentType: "application/octet-stream", cacheControl: "no-cache" });
      await store.put("a/gz", new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), { contentEncoding: "gzip" });
      expect([...(await store.get("a/plain"))!]).toEqual([...data]);
      expect([...(await store.get("a/plain", { range: { offset: 10, length: 5 } }))!]).toEqual([10, 11, 12, 13, 14]);
      expect([...(await store.get("a/plain", { range: { suffixLength: 2 } }))!]).toEqual([230, 231]);
      expect((await store.getObject("a/gz"))?.contentEncoding).toBe("gzip");
      expect(await store.get("a/missing")).toBeUndefined();
      const keys: string[] = [];
      for await (const k of store.list("a/")) keys.push(k);
      expect(keys.sort()).toEqual(["a/gz", "a/plain"]);
    } finally {
      await store.delete("a/plain");
      await store.delete("a/gz");
    }
    expect(await store.exists("a/plain")).toBe(false);
  });
});
