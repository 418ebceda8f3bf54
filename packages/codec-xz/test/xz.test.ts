import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { describeByteCodec, fixturePath, hasFixture, type ByteCodecGolden } from "@cloudvolume/testing";
import { xz, xzCodec } from "../src/index.js";

/*
 * Decoding is ours (xz-decompress); the encoder the suite needs for its round trips is
 * Python's lzma (liblzma), an independent implementation, run as a child process.
 */
const PY = "/usr/bin/python3";
const hasPython = existsSync(PY) && (() => {
  try {
    execFileSync(PY, ["-c", "import lzma"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

function pyXz(bytes: Uint8Array, preset = 6): Uint8Array {
  const out = execFileSync(PY, ["-c", `import lzma,sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), preset=${preset}))`], { input: bytes, maxBuffer: 1 << 28 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** TensorStore's committed N5 xz blocks (written by zarr-python's N5Store via numcodecs LZMA), against the same blocks stored raw. */
function goldens(): ByteCodecGolden[] {
  const root = "thirdparty_n5_tensorstore_testdata";
  if (!hasFixture(root)) return [];
  return ["0/0", "0/1", "1/0", "1/1"].map((b) => ({
    name: `${root}/xz/${b}`,
    encoded: new Uint8Array(readFileSync(join(fixturePath(root), "xz", b))).subarray(12), // after the 12-byte N5 block header
    decoded: new Uint8Array(readFileSync(join(fixturePath(root), "raw", b))).subarray(12),
  }));
}

describe.skipIf(!hasPython)("xz with Python's lzma as the encoder", () => {
  describeByteCodec("xz (xz-decompress; Python lzma encodes)", async () => ({ ...(await xz().load()), encode: (b: Uint8Array, o?: { level?: number }) => pyXz(b, o?.level ?? 6) }) satisfies ByteCodec, {
    golden: goldens(),
    levels: [0, 6, 9],
  });
});

describe("xz codec", () => {
  it("decodes the fixture goldens without Python", async () => {
    const g = goldens();
    for (const { name, encoded, decoded } of g) expect([...(await xzCodec.decode(encoded, { key: name }))], name).toEqual([...decoded]);
  });

  it("encode is UNSUPPORTED, naming the package", () => {
    let err: unknown;
    try {
      xzCodec.encode(new Uint8Array(4));
    } catch (e) {
      err = e;
    }
    expect(isCloudVolumeError(err, "UNSUPPORTED")).toBe(true);
    expect((err as Error).message).toMatch(/decode-only in @cloudvolume\/codec-xz/);
  });

  it.skipIf(!hasPython)("concatenated streams decode as one; trailing garbage is DECODE_FAILED", async () => {
    const a = pyXz(new TextEncoder().encode("hello "));
    const b = pyXz(new TextEncoder().encode("world"));
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    expect(new TextDecoder().decode(await xzCodec.decode(both))).toBe("hello world");
    const bad = new Uint8Array(a.length + 3);
    bad.set(a);
    bad.set([1, 2, 3], a.length);
    await expect(xzCodec.decode(bad, { key: "k" })).rejects.toMatchObject({ code: "DECODE_FAILED", key: "k" });
  });
});
