import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeRadosgw, fixturePath, listLayerFiles, runNodeScript, readGroundTruth, tempDir, uniqueBucketName } from "@cloudvolume/testing";
import { adminClient, createBucket, destroyBucket, listAll } from "./helpers.js";

/**
 * `pnpm -s cloudvolume cp` (the built CLI of the cloudvolume bundle, in a child process)
 * between local disk and `local://bucket/layer`, where `local` is an alias in
 * $CLOUD_VOLUME_DIR/aliases.json for radosgw and the keys are in
 * $CLOUD_VOLUME_DIR/secrets/aws-secret.json, as a user would set it up. The round
 * trip must reproduce the layer exactly: the same files with the same bytes.
 */
const repo = fileURLToPath(new URL("../../..", import.meta.url));
const cli = join(repo, "packages", "cloudvolume", "dist", "cli.js");
const run = promisify(execFile);

const FIXTURES = ["pc_image_u8_raw_gzip", "pc_seg_u64_cseg", "pc_image_u8_multiscale", "pc_image_u8_raw_br", "pc_image_u8_sharded"];

const listFiles = (root: string) => listLayerFiles(root, ["provenance"]);

describeRadosgw("cloudvolume cp to and from an aliased S3 server", (env) => {
  const admin = adminClient(env);
  const bucket = uniqueBucketName("cv-cli");
  const home = tempDir("cv-cli-home-");
  const cvDir = join(tempDir("cv-cli-dir-"), "cv");
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOME: home, CLOUD_VOLUME_DIR: cvDir };
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"]) delete childEnv[k];

  const cv = (args: string[], envOverride: NodeJS.ProcessEnv = childEnv) => runNodeScript(cli, args, { env: envOverride });

  beforeAll(async () => {
    // The CLI is the built bundle: build it when it is missing or predates the S3 plugin.
    const dist = join(repo, "packages", "cloudvolume", "dist");
    const bundled = existsSync(cli) && readdirSync(dist).some((f) => f.endsWith(".js") && readFileSync(join(dist, f), "utf8").includes("@cloudvolume/storage-s3"));
    if (!bundled) {
      await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: repo });
    }
    mkdirSync(join(cvDir, "secrets"), { recursive: true });
    writeFileSync(join(cvDir, "aliases.json"), JSON.stringify({ local: { host: env.endpoint } }));
    writeFileSync(join(cvDir, "secrets", "aws-secret.json"), JSON.stringify({ AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey }));
    await createBucket(admin, bucket);
  }, 300_000);

  afterAll(async () => {
    await destroyBucket(admin, bucket);
    admin.destroy();
  });

  it.each(FIXTURES)("%s: file -> local://bucket -> file reproduces the layer exactly", async (name) => {
    const src = fixturePath(name);
    // Precomputed's info does not record transfer compression and cp gzips by default (as
    // CloudVolume does), so a layer stored otherwise is copied with --compress, which the
    // CLI notes as a top-level "compress" in the info (the one expected difference).
    const meta = JSON.parse(readFileSync(join(src, "FIXTURE.json"), "utf8")) as { compress?: string | boolean | null };
    const compress = meta.compress === "gzip" ? [] : ["--compress", meta.compress === "br" ? "br" : "none"];
    let r = await cv(["cp", `file://${src}`, `local://${bucket}/${name}`, ...compress]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect((await listAll(admin, bucket, `${name}/`)).length).toBeGreaterThan(1);

    const out = join(tempDir("cv-cli-out-"), name);
    r = await cv(["cp", `local://${bucket}/${name}`, `file://${out}`, ...compress]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(listFiles(out)).toEqual(listFiles(src));
    for (const f of listFiles(src)) {
      if (f === "info") {
        const got = JSON.parse(readFileSync(join(out, f), "utf8"));
        if (compress.length > 0) expect(got.compress).toBe(compress[1]);
        else expect(readFileSync(join(out, f), "utf8")).toBe(readFileSync(join(src, f), "utf8"));
        delete got.compress;
        expect(got, f).toEqual(JSON.parse(readFileSync(join(src, f), "utf8")));
      }
      else expect(readFileSync(join(out, f)).equals(readFileSync(join(src, f))), f).toBe(true);
    }

    // And the S3 copy reads as the ground truth through the CLI.
    const gt = readGroundTruth(name);
    const bin = join(tempDir("cv-cli-dl-"), "out.bin");
    const info = JSON.parse(readFileSync(join(src, "info"), "utf8")) as { scales: Array<{ size: number[]; voxel_offset: number[] }> };
    const { size, voxel_offset: o } = info.scales[0];
    r = await cv(["download", `local://${bucket}/${name}`, "--bbox", [o[0], o[1], o[2], o[0] + size[0], o[1] + size[1], o[2] + size[2]].join(","), "--out", bin]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(bin).equals(Buffer.from(gt.bytes))).toBe(true);
  });

  it("without credentials, or with a wrong secret, cp fails with a one-line error that names no secret", async () => {
    const name = "pc_image_u8_raw_gzip";
    const bare = join(tempDir("cv-cli-bare-"), "cv");
    mkdirSync(join(bare, "secrets"), { recursive: true });
    writeFileSync(join(bare, "aliases.json"), JSON.stringify({ local: { host: `s3://${env.endpoint}/` } }));
    let r = await cv(["cp", `file://${fixturePath(name)}`, `local://${bucket}/anon-${name}`], { ...childEnv, CLOUD_VOLUME_DIR: bare });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/access denied.*anonymous/i);

    const wrong = "wrong-secret-c2VjcmV0LXNob3VsZC1uZXZlci1wcmludA";
    writeFileSync(join(bare, "secrets", "local-secret.json"), JSON.stringify({ AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: wrong }));
    r = await cv(["cp", `file://${fixturePath(name)}`, `local://${bucket}/wrong-${name}`], { ...childEnv, CLOUD_VOLUME_DIR: bare });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/access denied.*local-secret\.json/i);
    expect(r.stderr + r.stdout).not.toContain(wrong);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
