import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePath, readGroundTruth, startGcsTestServer, startHttpTestServer, type GcsTestServer, type HttpTestServer } from "@cloudvolume/testing";
import { httpStorage } from "@cloudvolume/storage-http";
import { gcsStorage } from "@cloudvolume/storage-gcs";
import { CloudVolume, defaultPlugins } from "../src/index.js";
import { defaultPlugins as browserPlugins } from "../src/browser.js";

/** gs:// and http(s):// through the CloudVolume bundle, and the useHttps rewrite. */

let http: HttpTestServer;
let gcs: GcsTestServer;
beforeAll(async () => {
  http = await startHttpTestServer(fixturePath("pc_image_u8_raw_gzip"), { encoding: "cdn", basePath: "/public/layer" });
  gcs = await startGcsTestServer({ buckets: ["cv"] });
});
afterAll(() => Promise.all([http.close(), gcs.close()]));

const asBytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("the default bundle", () => {
  it("has gs:// in Node and http(s):// everywhere", () => {
    const protocols = (ps: ReturnType<typeof defaultPlugins>) => ps.flatMap((p) => (p.kind === "storage" ? [...p.protocols] : []));
    expect(protocols(defaultPlugins())).toEqual(expect.arrayContaining(["file", "gs", "http", "https", "mem"]));
    expect(protocols(browserPlugins())).toEqual(expect.arrayContaining(["http", "https", "mem"]));
    expect(protocols(browserPlugins())).not.toContain("gs");
  });

  it("reads an http:// layer with the default plugins", async () => {
    const vol = await CloudVolume.open(http.url);
    const cut = await vol.download(vol.bounds);
    expect(asBytes(cut.data).equals(Buffer.from(readGroundTruth("pc_image_u8_raw_gzip").bytes))).toBe(true);
    await vol.close();
  });

  it("writes and reads a gs:// layer", async () => {
    const info = CloudVolume.createNewInfo({
      layerType: "segmentation", dataType: "uint64", encoding: "raw", resolution: [8, 8, 40], voxelOffset: [0, 0, 0], volumeSize: [64, 64, 16], chunkSize: [32, 32, 16],
    });
    const plugins = [gcsStorage({ apiEndpoint: gcs.url })];
    const vol = await CloudVolume.open("gs://cv/seg", { info, plugins });
    await vol.commitInfo();
    const data = new BigUint64Array(64 * 64 * 16).map((_, i) => BigInt(i) * 0x100000001n);
    await vol.upload([0, 0, 0, 64, 64, 16], data);
    expect([...gcs.buckets.get("cv")!.keys()].sort()).toEqual(["seg/8_8_40/0-32_0-32_0-16", "seg/8_8_40/0-32_32-64_0-16", "seg/8_8_40/32-64_0-32_0-16", "seg/8_8_40/32-64_32-64_0-16", "seg/info"]);
    expect(gcs.buckets.get("cv")!.get("seg/8_8_40/0-32_0-32_0-16")!.contentEncoding).toBe("gzip");
    const back = await CloudVolume.open("gs://cv/seg", { plugins });
    expect(asBytes((await back.download([0, 0, 0, 64, 64, 16])).data).equals(asBytes(data))).toBe(true);
  });
});

describe("useHttps", () => {
  it("opens gs:// through https://storage.googleapis.com (fetch redirected to the local server)", async () => {
    const seen: string[] = [];
    // Stand-in for the public endpoint: whatever is asked of storage.googleapis.com/bucket/layer is served locally.
    const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      const u = String(input);
      seen.push(u);
      return globalThis.fetch(u.replace("https://storage.googleapis.com/bucket/layer", http.url), init);
    }) as typeof globalThis.fetch;
    const vol = await CloudVolume.open("gs://bucket/layer", { useHttps: true, plugins: [httpStorage({ fetch })] });
    expect(vol.url).toBe("https://storage.googleapis.com/bucket/layer");
    const cut = await vol.download(vol.bounds);
    expect(asBytes(cut.data).equals(Buffer.from(readGroundTruth("pc_image_u8_raw_gzip").bytes))).toBe(true);
    expect(seen[0]).toBe("https://storage.googleapis.com/bucket/layer/info");
    expect(seen.every((u) => u.startsWith("https://storage.googleapis.com/bucket/layer/"))).toBe(true);
  });

  it("without useHttps, gs:// goes to the gs:// store", async () => {
    const seen: string[] = [];
    const fetch = ((input: RequestInfo | URL) => {
      seen.push(String(input));
      return Promise.resolve(new Response("", { status: 404 }));
    }) as typeof globalThis.fetch;
    gcs.createBucket("other");
    const err = await CloudVolume.open("gs://other/nothing", { plugins: [httpStorage({ fetch }), gcsStorage({ apiEndpoint: gcs.url })] }).catch((e) => e);
    expect(err.code).toBe("NOT_FOUND");
    expect(seen).toEqual([]);
  });
});
