import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { randomTestBytes, tempDir } from "@cloudvolume/testing";
import { decodeLz4BlockStream, encodeLz4BlockStream, isLz4BlockStream, lz4BlockChecksum, lz4DecodeBlock, lz4EncodeBlock, xxhash32 } from "../src/index.js";

/*
 * n5-java's lz4: lz4-java's LZ4BlockOutputStream framing. The golden streams were written by
 * lz4-java 1.8.0 itself (Debian's liblz4-java; test/golden/Lz4Java.java generates them);
 * when a JDK and that jar are here, what we encode is also decoded by lz4-java's
 * LZ4BlockInputStream. The LZ4 block codec alone is checked against python3-lz4 when present.
 */

const GOLDEN = join(import.meta.dirname, "golden", "lz4java");
const goldens = readdirSync(GOLDEN).filter((f) => f.endsWith(".lz4")).map((f) => f.slice(0, -4)).sort();

const JAR = "/usr/share/java/lz4-java.jar";
const javaMissing = (() => {
  if (!existsSync(JAR)) return `${JAR} is not installed (apt-get install liblz4-java default-jdk-headless)`;
  try {
    execFileSync("java", ["-version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "no java on PATH (apt-get install default-jdk-headless)";
  }
})();

const PY = "/usr/bin/python3";
const pyLz4Missing = (() => {
  try {
    execFileSync(PY, ["-c", "import lz4.block"], { stdio: "ignore" });
    return undefined;
  } catch {
    return `${PY} has no lz4 module (apt-get install python3-lz4)`;
  }
})();

const enc = (s: string) => new TextEncoder().encode(s);

describe("XXH32 and lz4-java's checksum", () => {
  it("matches the reference vectors", () => {
    expect(xxhash32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxhash32(enc("abc"))).toBe(0x32d153ff);
    expect(xxhash32(enc("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
  });
  it("lz4-java keeps the low 28 bits of XXH32 seeded 0x9747b28c (the golden frames' checksums)", () => {
    const bytes = new Uint8Array(readFileSync(join(GOLDEN, "one-byte-65536.lz4")));
    const check = new DataView(bytes.buffer, bytes.byteOffset).getInt32(17, true) >>> 0;
    expect(check).toBe(lz4BlockChecksum(Uint8Array.of(42)));
    expect(check).toBeLessThan(1 << 28);
  });
});

describe("LZ4Block streams written by lz4-java", () => {
  for (const name of goldens) {
    it(`decodes ${name}`, () => {
      const stream = new Uint8Array(readFileSync(join(GOLDEN, `${name}.lz4`)));
      const plain = new Uint8Array(readFileSync(join(GOLDEN, `${name}.bin`)));
      expect(isLz4BlockStream(stream)).toBe(true);
      expect(Buffer.from(decodeLz4BlockStream(stream, plain.length)).equals(Buffer.from(plain))).toBe(true);
    });
  }

  it("a corrupted frame is an error, never wrong bytes", () => {
    const stream = new Uint8Array(readFileSync(join(GOLDEN, "compressible-65536.lz4")));
    const flipped = stream.slice();
    flipped[200] ^= 0x40;
    expect(() => decodeLz4BlockStream(flipped)).toThrow();
    expect(() => decodeLz4BlockStream(stream.subarray(0, stream.length - 30))).toThrow(/truncated|LZ4/);
    expect(() => decodeLz4BlockStream(stream.subarray(0, 10))).toThrow(/truncated/);
    expect(() => decodeLz4BlockStream(enc("not an lz4 stream at all"))).toThrow(/LZ4Block.*numcodecs/);
  });
});

describe("our LZ4Block encoder", () => {
  const samples: [string, Uint8Array, number][] = [
    ["empty", new Uint8Array(0), 65536],
    ["tiny", enc("abc"), 65536],
    ["random 70000 (two frames, stored)", randomTestBytes(70000, 7), 65536],
    ["compressible 300000", enc("cloudvolume n5 lz4 ".repeat(15790)), 65536],
    ["runs, small frames", new Uint8Array(10000).map((_, i) => (i >> 6) & 0xff), 1024],
  ];
  for (const [label, data, bs] of samples) {
    it(`round trip: ${label}`, () => {
      const s = encodeLz4BlockStream(data, bs);
      expect(Buffer.from(decodeLz4BlockStream(s, data.length)).equals(Buffer.from(data))).toBe(true);
      if (label.startsWith("compressible")) expect(s.length).toBeLessThan(data.length / 10);
    });
  }

  it.skipIf(javaMissing !== undefined)(`lz4-java's LZ4BlockInputStream reads what we write${javaMissing ? ` [skipped: ${javaMissing}]` : ""}`, () => {
    const dir = tempDir("cv-n5-lz4java-");
    for (const [label, data, bs] of samples) {
      const f = join(dir, "s.lz4");
      writeFileSync(f, encodeLz4BlockStream(data, bs));
      const out = execFileSync("java", ["-cp", JAR, join(import.meta.dirname, "golden", "Lz4Java.java"), "read", f], { maxBuffer: 1 << 26 });
      expect(Buffer.from(out).equals(Buffer.from(data)), label).toBe(true);
    }
  }, 120_000);

  it.skipIf(pyLz4Missing !== undefined)(`LZ4 blocks agree with python3-lz4 both ways${pyLz4Missing ? ` [skipped: ${pyLz4Missing}]` : ""}`, () => {
    const data = enc("abcabcabc-0123456789-".repeat(3000) + "tail");
    const ours = lz4EncodeBlock(data);
    const back = execFileSync(PY, ["-c", `import sys, lz4.block; sys.stdout.buffer.write(lz4.block.decompress(sys.stdin.buffer.read(), uncompressed_size=${data.length}))`], { input: ours });
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    const theirs = execFileSync(PY, ["-c", "import sys, lz4.block; sys.stdout.buffer.write(lz4.block.compress(sys.stdin.buffer.read(), store_size=False))"], { input: data });
    const out = new Uint8Array(data.length);
    lz4DecodeBlock(new Uint8Array(theirs), out);
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
  });
});
