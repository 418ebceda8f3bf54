import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { startGcsTestServer, tempDir } from "@cloudvolume/testing";
import { openGcsStore, resolveGoogleCredentials, secretDirectories } from "@cloudvolume/storage-gcs";

/** Secrets are resolved from temporary CLOUD_VOLUME_DIR / HOME directories only, never the real home. */
const dirs: string[] = [];
function scratch(): string {
  const d = tempDir("cv-secrets-");
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function write(dir: string, name: string, value: unknown): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value));
  return p;
}

const SERVICE_ACCOUNT = { type: "service_account", project_id: "proj-a", client_email: "sa@proj-a.iam.gserviceaccount.com", private_key: "-----BEGIN PRIVATE KEY-----\nMIIfake\n-----END PRIVATE KEY-----\n" };

describe("resolveGoogleCredentials", () => {
  it("reads $CLOUD_VOLUME_DIR/secrets, bucket-specific file first", () => {
    const cvdir = scratch();
    const home = scratch();
    const generic = write(join(cvdir, "secrets"), "google-secret.json", SERVICE_ACCOUNT);
    const specific = write(join(cvdir, "secrets"), "mybucket-google-secret.json", { ...SERVICE_ACCOUNT, project_id: "proj-b" });
    const env = { CLOUD_VOLUME_DIR: cvdir };
    const a = resolveGoogleCredentials("mybucket", { env, home });
    expect(a).toMatchObject({ kind: "credentials", projectId: "proj-b", source: specific });
    const b = resolveGoogleCredentials("otherbucket", { env, home });
    expect(b).toMatchObject({ kind: "credentials", projectId: "proj-a", source: generic });
    expect(secretDirectories({ env, home })).toEqual([join(cvdir, "secrets"), join(home, ".cloudfiles", "secrets")]);
  });

  it("defaults to ~/.cloudvolume/secrets, then CloudFiles' ~/.cloudfiles/secrets, then the library defaults", () => {
    const home = scratch();
    expect(resolveGoogleCredentials("b", { env: {}, home })).toEqual({ kind: "default", source: "default" });
    const cf = write(join(home, ".cloudfiles", "secrets"), "google-secret.json", SERVICE_ACCOUNT);
    expect(resolveGoogleCredentials("b", { env: {}, home })).toMatchObject({ source: cf });
    const cv = write(join(home, ".cloudvolume", "secrets"), "google-secret.json", SERVICE_ACCOUNT);
    expect(resolveGoogleCredentials("b", { env: {}, home })).toMatchObject({ source: cv });
  });

  it("the secrets option wins over files: object, JSON string, token string, { token }", () => {
    const cvdir = scratch();
    write(join(cvdir, "secrets"), "google-secret.json", SERVICE_ACCOUNT);
    const env = { CLOUD_VOLUME_DIR: cvdir };
    expect(resolveGoogleCredentials("b", { env, secrets: { ...SERVICE_ACCOUNT, project_id: "opt" } })).toMatchObject({ kind: "credentials", projectId: "opt" });
    expect(resolveGoogleCredentials("b", { env, secrets: JSON.stringify({ ...SERVICE_ACCOUNT, project_id: "json" }) })).toMatchObject({ kind: "credentials", projectId: "json" });
    expect(resolveGoogleCredentials("b", { env, secrets: "ya29.abc" })).toEqual({ kind: "token", token: "ya29.abc", source: "the secrets option" });
    expect(resolveGoogleCredentials("b", { env, secrets: { access_token: "ya29.def" } })).toMatchObject({ kind: "token", token: "ya29.def" });
  });

  it("a broken secret file is an error that names the file but never quotes it", () => {
    const cvdir = scratch();
    const secret = "-----BEGIN PRIVATE KEY-----SUPERSECRETMATERIAL";
    const p = write(join(cvdir, "secrets"), "google-secret.json", `{"private_key": "${secret}", oops`);
    let err: unknown;
    try {
      resolveGoogleCredentials("b", { env: { CLOUD_VOLUME_DIR: cvdir }, home: scratch() });
    } catch (e) {
      err = e;
    }
    expect(isCloudVolumeError(err, "INVALID_ARGUMENT")).toBe(true);
    expect((err as Error).message).toContain(p);
    expect(String(err)).not.toContain("SUPERSECRETMATERIAL");
    expect(() => resolveGoogleCredentials("b", { secrets: { foo: 1 } })).toThrow(/neither/);
    expect(() => resolveGoogleCredentials("b", { secrets: "{not json" })).toThrow(/do not parse/);
  });

  it("a token found in a bucket's secret file is what the store sends", async () => {
    const token = "ya29.from-file-1234567890";
    const cvdir = scratch();
    write(join(cvdir, "secrets"), "tok-google-secret.json", { token });
    const s = await startGcsTestServer({ buckets: ["tok"], token });
    try {
      const store = await openGcsStore({ bucket: "tok", apiEndpoint: s.url, env: { CLOUD_VOLUME_DIR: cvdir }, home: scratch() });
      await store.put("x", new Uint8Array([1, 2, 3]));
      expect([...(await store.get("x"))!]).toEqual([1, 2, 3]);
      expect(s.requests.every((r) => r.headers.authorization === `Bearer ${token}`)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
