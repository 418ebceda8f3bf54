import { describe, expect, it } from "vitest";
import type { ByteCodec, ChunkSpec } from "@cloudvolume/core";
import { gzip } from "@cloudvolume/codec-gzip";
import { xz } from "@cloudvolume/codec-xz";
import { blockHeaderBytes, n5BlockCodec, parseBlockHeader } from "../src/index.js";

/*
 * The block codec against the N5 specification's own example (saalfeldlab/n5 README,
 * "File-system specification" item 9): a 3-D uint16 block of 1x2x3 voxels holding 1..6.
 */
const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const HEADER = hex("0000 0003 00000001 00000002 00000003");
const RAW = hex("0001 0002 0003 0004 0005 0006");
const GZIP = hex("1f8b0800 00000000 0000 6360 6460 6260 6660 6160 6560 0300 aaea6dbf 0c000000");
const XZ = hex(`fd377a58 5a000004 e6d6b446 02002101 16000000 742fe5a3 01000b00 01000200 03000400 05000600
  0d0309ca 34ec15a7 0001240c a618d8d8 1fb6f37d 01000000 0004595a`);
const spec: ChunkSpec = { shape: [1, 2, 3], channels: 1, dtype: "uint16", key: "0/0/0" };
const voxels = new Uint8Array(new Uint16Array([1, 2, 3, 4, 5, 6]).buffer);

describe("N5 block codec (the specification's example block)", () => {
  it("writes the example's header and big-endian raw data exactly", async () => {
    const c = n5BlockCodec(3, { config: { type: "raw" }, name: "raw" });
    expect([...(await c.encode!(voxels, spec))]).toEqual([...HEADER, ...RAW]);
    expect([...blockHeaderBytes([1, 2, 3])]).toEqual([...HEADER]);
    expect(parseBlockHeader(new Uint8Array([...HEADER, ...RAW]))).toEqual({ mode: 0, dims: [1, 2, 3], dataOffset: 16 });
  });

  it("reads the example's raw, gzip and xz blocks as 1..6", async () => {
    const cases: Array<[string, Uint8Array, ByteCodec | undefined]> = [
      ["raw", RAW, undefined],
      ["gzip", GZIP, await gzip().load()],
      ["xz", XZ, await xz().load()],
    ];
    for (const [name, payload, codec] of cases) {
      const c = n5BlockCodec(3, { config: { type: name }, name, codec });
      const out = await c.decode(new Uint8Array([...HEADER, ...payload]), spec);
      expect([...new Uint16Array(out.buffer, out.byteOffset, 6)], name).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it("crops a padded block to the chunk and decodes into a given buffer", async () => {
    // 2x2x3 block, the chunk is its x < 1 half (a padded end block).
    const c = n5BlockCodec(3, { config: { type: "raw" }, name: "raw" });
    const padded = new Uint8Array([...blockHeaderBytes([2, 2, 3]), ...hex("0001 ffff 0002 ffff 0003 ffff 0004 ffff 0005 ffff 0006 ffff")]);
    const out = new Uint8Array(12);
    const got = await c.decode(padded, spec, out);
    expect(got).toBe(out);
    expect([...new Uint16Array(out.buffer)]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("4-D blocks: the 4th dimension is the channel axis", async () => {
    const c = n5BlockCodec(4, { config: { type: "raw" }, name: "raw" });
    const s: ChunkSpec = { shape: [1, 1, 3], channels: 2, dtype: "uint16" };
    const enc = await c.encode!(voxels, s);
    expect([...enc.subarray(0, 20)]).toEqual([...blockHeaderBytes([1, 1, 3, 2])]);
    expect([...new Uint16Array((await c.decode(enc, s)).buffer)]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
