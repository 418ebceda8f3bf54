import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { fixturePath, hasFixture, randomTestBytes } from "@cloudvolume/testing";
import { gzipCodec } from "@cloudvolume/codec-gzip";
import { useFallbackInflate } from "../src/inflate-into.js";
import { gzipBackend, useLibdeflate } from "../src/libdeflate.js";

/**
 * decodeInto: gunzip into a caller's buffer on the calling thread (what worker threads
 * use). Every case runs three times: through libdeflate (the addon, where built; under
 * CI it must be), through Node's zlib handle, and through the gunzipSync fallback, which
 * must agree byte for byte and error for error.
 */
const libdeflateBuilt = gzipBackend().backend === "libdeflate";
if (process.env.CI && !libdeflateBuilt) throw new Error(`libdeflate addon missing under CI: ${gzipBackend().why}`);
const smooth = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i >> 6) & 0xff);

for (const path of ["libdeflate", "native handle", "gunzipSync fallback"]) {
  describe.skipIf(path === "libdeflate" && !libdeflateBuilt)(`gzip decodeInto (${path})`, () => {
    const setUp = () => {
      useLibdeflate(path === "libdeflate");
      useFallbackInflate(path === "gunzipSync fallback");
    };
    afterEach(() => {
      useLibdeflate(true);
      useFallbackInflate(false);
    });

    it("fills an exactly sized buffer and returns that very buffer", () => {
      setUp();
      const data = smooth(262144);
      const out = new Uint8Array(data.length);
      const got = gzipCodec.decodeInto(zlib.gzipSync(data, { level: 9 }), out);
      expect(got).toBe(out);
      expect(Buffer.compare(got, data)).toBe(0);
    });

    it("returns the filled prefix of a larger buffer", () => {
      setUp();
      const data = randomTestBytes(5000, 7);
      const out = new Uint8Array(9000).fill(0xee);
      const got = gzipCodec.decodeInto(zlib.gzipSync(data), out);
      expect(got.buffer).toBe(out.buffer);
      expect(got.byteLength).toBe(5000);
      expect(Buffer.compare(got, data)).toBe(0);
      expect(out[5000]).toBe(0xee);
    });

    it("returns a new buffer with every byte when the stream is longer than the buffer", () => {
      setUp();
      const data = smooth(100_000);
      const out = new Uint8Array(99_999);
      const got = gzipCodec.decodeInto(zlib.gzipSync(data), out);
      expect(got.buffer).not.toBe(out.buffer);
      expect(Buffer.compare(got, data)).toBe(0);
    });

    it("decodes concatenated members and ignores trailing zero padding, as gunzip does", () => {
      setUp();
      const a = smooth(3000), b = randomTestBytes(2000, 3);
      const two = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b), Buffer.alloc(16)]);
      const got = gzipCodec.decodeInto(two, new Uint8Array(5000));
      expect(Buffer.compare(got, Buffer.concat([a, b]))).toBe(0);
    });

    it("after a member: zero padding ends the stream, other bytes must be another member (as gunzip)", () => {
      setUp();
      const a = smooth(1200);
      const member = zlib.gzipSync(a);
      for (const tail of [[0, 0, 0], [0, 7, 7]]) {
        expect(Buffer.compare(gzipCodec.decodeInto(Buffer.concat([member, Buffer.from(tail)]), new Uint8Array(1200)), a), `tail ${tail}`).toBe(0);
      }
      for (const tail of [[0x67, 0x61], [0x1f], [0x1f, 0x8b, 1, 2]]) {
        let err: unknown;
        try { gzipCodec.decodeInto(Buffer.concat([member, Buffer.from(tail)]), new Uint8Array(1200), { key: "k" }); } catch (e) { err = e; }
        expect(isCloudVolumeError(err, "DECODE_FAILED"), `tail ${tail}: ${String(err)}`).toBe(true);
      }
    });

    it("fails with DECODE_FAILED on truncated, corrupt and empty input, then keeps working", () => {
      setUp();
      const data = smooth(65536);
      const gz = zlib.gzipSync(data);
      const cases: Array<[string, Uint8Array, number]> = [
        ["truncated to the exact size", gz.subarray(0, gz.length - 9), data.length],
        ["truncated, roomy buffer", gz.subarray(0, gz.length >> 1), data.length + 100],
        ["bad CRC", Uint8Array.from(gz, (v, i) => (i === gz.length - 6 ? v ^ 0xff : v)), data.length],
        ["not gzip", randomTestBytes(100, 1), 1000],
        ["empty", new Uint8Array(0), 10],
      ];
      for (const [what, bytes, size] of cases) {
        let err: unknown;
        try {
          gzipCodec.decodeInto(bytes, new Uint8Array(size), { key: "k/chunk" });
        } catch (e) {
          err = e;
        }
        expect(isCloudVolumeError(err, "DECODE_FAILED"), what).toBe(true);
        expect((err as Error).message, what).toContain("k/chunk");
        // A failed stream must not poison the next decode.
        expect(Buffer.compare(gzipCodec.decodeInto(gz, new Uint8Array(data.length)), data), `after ${what}`).toBe(0);
      }
    });

    it.runIf(hasFixture("pc_image_u8_raw_gzip"))("decodes every chunk CloudVolume gzipped like decode does", async () => {
      setUp();
      const dir = join(fixturePath("pc_image_u8_raw_gzip"), "4_4_40");
      const files = readdirSync(dir).filter((f) => f.endsWith(".gz"));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const bytes = new Uint8Array(readFileSync(join(dir, f)));
        const want = await gzipCodec.decode(bytes);
        const got = gzipCodec.decodeInto(bytes, new Uint8Array(want.byteLength));
        expect(Buffer.compare(got, want), f).toBe(0);
      }
    });
  });
}
