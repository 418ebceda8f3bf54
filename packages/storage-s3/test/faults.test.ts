import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dtypeInfo, isCloudVolumeError, type Context, type DataType, type StoragePlugin } from "@cloudvolume/core";
import { PrecomputedVolume } from "@cloudvolume/format-precomputed";
import { FaultStore, describeRadosgw, faultStore, fixturePath, readGroundTruth, uniqueBucketName, type FaultStoreOptions } from "@cloudvolume/testing";
import { adminClient, createBucket, destroyBucket, listAll, radosgwPlugin, testContext } from "./helpers.js";

/**
 * Reads and writes through a store that fails, hangs, truncates and stalls (the
 * FaultStore wrapper from @cloudvolume/testing), on local fixtures and over radosgw.
 * The promise under test: a download either returns exactly the ground truth or fails
 * with UNAVAILABLE (transient, retried first) or DECODE_FAILED (the bytes were bad);
 * never wrong voxels. Writes never leave a partial object visible.
 */

/** `faulty://<any cloudpath>`: the inner cloudpath's store, wrapped. Records the wrappers it made. */
function faultyPlugin(opts: FaultStoreOptions, made: FaultStore[] = []): StoragePlugin {
  return {
    kind: "storage",
    protocols: ["faulty"],
    package: "test",
    async load() {
      return async (url, ctx) => {
        const store = faultStore(await ctx.storage(url.path), opts);
        made.push(store);
        return store;
      };
    },
  };
}

/** Faults only on chunk data: the info and provenance files are read once, before any retry policy applies. */
const dataOnly = (f: (call: { key: string; attempt: number }) => ReturnType<NonNullable<FaultStoreOptions["plan"]>>): FaultStoreOptions["plan"] =>
  (call) => (call.key === "info" || call.key.startsWith("provenance") ? null : f(call));

const RETRY = { attempts: 4, baseDelayMs: 1, maxDelayMs: 4 };
const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

type Outcome = "exact" | "UNAVAILABLE" | "DECODE_FAILED";

/** Download the whole of `name` (mip 0) through `url`; anything but the three allowed outcomes fails the test. */
async function downloadOutcome(ctx: Context, url: string, name: string): Promise<Outcome> {
  const gt = readGroundTruth(name);
  try {
    const vol = await PrecomputedVolume.open(ctx, url);
    const cut = await vol.download(vol.bounds(0));
    // The one outcome that must never happen: success with other voxels.
    expect(bytes(cut.data).equals(Buffer.from(gt.bytes)), `${name} via ${url}: wrong voxels`).toBe(true);
    return "exact";
  } catch (e) {
    if (isCloudVolumeError(e, "UNAVAILABLE") || isCloudVolumeError(e, "DECODE_FAILED")) return e.code as Outcome;
    throw e;
  }
}

const READ_FIXTURES = ["pc_image_u8_raw", "pc_image_u8_raw_gzip", "pc_image_u8_raw_br", "pc_seg_u64_cseg", "pc_seg_u64_cseg_gzip_ragged", "pc_image_u8_sharded"];

describe("downloads through a faulty store (local fixtures)", () => {
  it.each(READ_FIXTURES)("%s: 40 seeds of random faults give exact voxels, UNAVAILABLE or DECODE_FAILED", async (name) => {
    const seen: Record<Outcome, number> = { exact: 0, UNAVAILABLE: 0, DECODE_FAILED: 0 };
    let faults = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const made: FaultStore[] = [];
      const rates = { unavailable: 0.15, hang: 0.03, truncate: 0.03, delay: 0.1 };
      const ctx = testContext([faultyPlugin({ seed, rates, hangMs: 20, delayMs: [0, 5], plan: dataOnly(() => undefined) }, made)], RETRY);
      seen[await downloadOutcome(ctx, `faulty://file://${fixturePath(name)}`, name)]++;
      for (const s of made) faults += s.stats.faults.unavailable + s.stats.faults.hang + s.stats.faults.truncate;
    }
    expect(faults, "faults were injected").toBeGreaterThan(0);
    // Retries absorb the transient faults often enough that some runs succeed, and the
    // truncations (not retried: the bytes came, and were bad) make some fail.
    expect(seen.exact, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(seen.UNAVAILABLE + seen.DECODE_FAILED, JSON.stringify(seen)).toBeGreaterThan(0);
  });

  it.each(["pc_image_u8_raw", "pc_image_u8_raw_gzip", "pc_image_u8_raw_br", "pc_seg_u64_cseg", "pc_seg_u64_cseg_gzip_ragged"])(
    "%s: a truncated chunk body is DECODE_FAILED, at any cut",
    async (name) => {
      for (const truncateTo of [0, 0.1, 0.5, 0.9, 0.999]) {
        const ctx = testContext([faultyPlugin({ truncateTo, plan: dataOnly(() => "truncate") })], RETRY);
        expect(await downloadOutcome(ctx, `faulty://file://${fixturePath(name)}`, name), `cut at ${truncateTo}`).toBe("DECODE_FAILED");
      }
    },
  );

  it("503 on the first three attempts of every chunk: retried to exact voxels; on every attempt: UNAVAILABLE", async () => {
    const name = "pc_image_u8_raw_gzip";
    const made: FaultStore[] = [];
    const flaky = testContext([faultyPlugin({ plan: dataOnly(({ attempt }) => (attempt < 3 ? "unavailable" : null)) }, made)], RETRY);
    expect(await downloadOutcome(flaky, `faulty://file://${fixturePath(name)}`, name)).toBe("exact");
    // 8 chunks, 4 attempts each: the retries really happened.
    expect(made[0].stats.calls.getObject).toBe(8 * 4);
    expect(made[0].stats.faults.unavailable).toBe(8 * 3);
    const dead = testContext([faultyPlugin({ plan: dataOnly(() => "unavailable") })], RETRY);
    expect(await downloadOutcome(dead, `faulty://file://${fixturePath(name)}`, name)).toBe("UNAVAILABLE");
  });

  it("a hung request times out as UNAVAILABLE, or ends as ABORTED when the caller aborts", async () => {
    const name = "pc_image_u8_raw";
    const timeouts = testContext([faultyPlugin({ hangMs: 10, plan: dataOnly(() => "hang") })], RETRY);
    expect(await downloadOutcome(timeouts, `faulty://file://${fixturePath(name)}`, name)).toBe("UNAVAILABLE");

    const hanging = testContext([faultyPlugin({ hangMs: 60_000, plan: dataOnly(() => "hang") })], RETRY);
    const vol = await PrecomputedVolume.open(hanging, `faulty://file://${fixturePath(name)}`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const t0 = Date.now();
    const err = await vol.download(vol.bounds(0), { signal: ac.signal }).catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "ABORTED"), String(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("the wrapper is deterministic: one seed, one sequence of faults", async () => {
    const run = async () => {
      const made: FaultStore[] = [];
      const ctx = testContext([faultyPlugin({ seed: 7, rates: { unavailable: 0.4, delay: 0.2 }, delayMs: 1, plan: dataOnly(() => undefined) }, made)], { attempts: 20, baseDelayMs: 0, maxDelayMs: 0 });
      const vol = await PrecomputedVolume.open(ctx, `faulty://file://${fixturePath("pc_image_u8_raw")}`);
      // Chunk by chunk, serially, so the call order (and so the draws) is the same every run.
      for (let z = 0; z < 32; z += 16) for (let y = 0; y < 64; y += 32) for (let x = 0; x < 64; x += 32) await vol.download([x, y, z, x + 32, y + 32, z + 16]);
      return made[0].stats.log.map((c) => `${c.op} ${c.key} ${c.fault ?? "-"}`);
    };
    const a = await run();
    expect(a.some((l) => l.endsWith("unavailable"))).toBe(true);
    expect(await run()).toEqual(a);
  });
});

describeRadosgw("faults over S3 (radosgw)", (env) => {
  const admin = adminClient(env);
  const bucket = uniqueBucketName("cv-fault");
  const clean = testContext([radosgwPlugin(env)]);

  beforeAll(async () => {
    await createBucket(admin, bucket);
    // The fixtures, copied into the bucket through our API.
    for (const name of READ_FIXTURES) {
      const src = await PrecomputedVolume.open(clean, `file://${fixturePath(name)}`);
      const dst = await PrecomputedVolume.open(clean, `s3://${bucket}/${name}`, { info: src.info });
      await dst.commitInfo();
      await src.transferTo(dst);
    }
  });
  afterAll(async () => {
    await destroyBucket(admin, bucket);
    admin.destroy();
  });

  it.each(READ_FIXTURES)("%s: random faults over S3 give exact voxels, UNAVAILABLE or DECODE_FAILED", async (name) => {
    const seen: Record<Outcome, number> = { exact: 0, UNAVAILABLE: 0, DECODE_FAILED: 0 };
    for (let seed = 1; seed <= 10; seed++) {
      const ctx = testContext([faultyPlugin({ seed, rates: { unavailable: 0.2, hang: 0.03, truncate: 0.03, delay: 0.1 }, hangMs: 20, delayMs: [0, 5], plan: dataOnly(() => undefined) }), radosgwPlugin(env)], RETRY);
      seen[await downloadOutcome(ctx, `faulty://s3://${bucket}/${name}`, name)]++;
    }
    expect(seen.exact, JSON.stringify(seen)).toBeGreaterThan(0);
  });

  it("uploads under 503s (some after the write landed): every visible chunk is whole, and a finished upload reads back exactly", async () => {
    const name = "pc_seg_u64_cseg_gzip_ragged";
    const gt = readGroundTruth(name);
    const src = await PrecomputedVolume.open(clean, `file://${fixturePath(name)}`);
    for (let seed = 1; seed <= 6; seed++) {
      const layer = `up-${seed}`;
      const made: FaultStore[] = [];
      const ctx = testContext([faultyPlugin({ seed, rates: { unavailable: 0.3, delay: 0.1 }, delayMs: [0, 3], ops: ["put"], unavailableAfterWrite: 0.5 }, made), radosgwPlugin(env)], RETRY);
      const vol = await PrecomputedVolume.open(ctx, `faulty://s3://${bucket}/${layer}`, { info: src.info });
      // The info itself goes through the faulty store too: retry by hand as a user would.
      for (let i = 0; ; i++) {
        try {
          await vol.commitInfo();
          break;
        } catch (e) {
          if (!isCloudVolumeError(e, "UNAVAILABLE") || i > 20) throw e;
        }
      }
      const dtype = vol.info.data_type as DataType;
      const arr = new (dtypeInfo(dtype).ctor)(gt.bytes.slice().buffer);
      let uploaded = true;
      try {
        await vol.upload(vol.bounds(0), arr);
      } catch (e) {
        expect(isCloudVolumeError(e, "UNAVAILABLE"), String(e)).toBe(true);
        uploaded = false;
      }
      expect(made[0].stats.faults.unavailable, `seed ${seed}: faults injected`).toBeGreaterThan(0);
      // Whatever made it is whole: each stored chunk decodes to the ground truth's voxels.
      const keys = (await listAll(admin, bucket, `${layer}/`)).filter((k) => !k.endsWith("/info") && !k.includes("provenance"));
      const back = await PrecomputedVolume.open(clean, `s3://${bucket}/${layer}`, { fillMissing: true });
      const cut = await back.download(back.bounds(0));
      const got = bytes(cut.data);
      if (uploaded) {
        expect(got.equals(Buffer.from(gt.bytes)), `seed ${seed}: finished upload reads back exactly`).toBe(true);
      } else {
        // Missing chunks read as 0; every other voxel must be the ground truth's.
        const g = new BigUint64Array(gt.bytes.slice().buffer);
        const c = new BigUint64Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength));
        for (let i = 0; i < g.length; i++) if (c[i] !== 0n && c[i] !== g[i]) throw new Error(`seed ${seed}: voxel ${i} is ${c[i]}, not ${g[i]} or 0`);
      }
      expect(keys.length, `seed ${seed}`).toBeGreaterThan(0);
    }
  });
});
