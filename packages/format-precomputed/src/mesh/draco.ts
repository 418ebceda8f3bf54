import { CloudVolumeError } from "@cloudvolume/core";
import { Mesh } from "./mesh.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let decoderModule: Promise<any> | undefined;
let encoderModule: Promise<any> | undefined;

async function draco(): Promise<{ createDecoderModule(o?: object): Promise<any>; createEncoderModule(o?: object): Promise<any> }> {
  const m: any = await import("draco3d");
  return m.default ?? m;
}

/** The Draco decoder (WASM from the draco3d package), loaded once on first use. */
export function dracoDecoder(): Promise<any> {
  decoderModule ??= draco().then((d) => d.createDecoderModule({}));
  return decoderModule;
}

export function dracoEncoder(): Promise<any> {
  encoderModule ??= draco().then((d) => d.createEncoderModule({}));
  return encoderModule;
}

/** Decode a Draco triangle mesh; vertices are the POSITION attribute as decoded (dequantized) floats. */
export async function decodeDraco(bytes: Uint8Array, key = "fragment"): Promise<Mesh> {
  const M = await dracoDecoder();
  const fail = (m: string) => new CloudVolumeError("DECODE_FAILED", `Draco mesh fragment ${key}: ${m}`, { key });
  const buffer = new M.DecoderBuffer();
  const decoder = new M.Decoder();
  const mesh = new M.Mesh();
  try {
    buffer.Init(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.byteLength);
    const type = decoder.GetEncodedGeometryType(buffer);
    if (type !== M.TRIANGULAR_MESH) throw fail("not a Draco triangular mesh");
    const status = decoder.DecodeBufferToMesh(buffer, mesh);
    if (!status.ok() || mesh.ptr === 0) throw fail(status.error_msg());
    const nf = mesh.num_faces();
    const np = mesh.num_points();
    const attrId = decoder.GetAttributeId(mesh, M.POSITION);
    if (attrId < 0) throw fail("no POSITION attribute");
    const attr = decoder.GetAttribute(mesh, attrId);
    const vBytes = np * 3 * 4;
    const vPtr = M._malloc(vBytes);
    const fBytes = nf * 3 * 4;
    const fPtr = M._malloc(fBytes);
    try {
      if (!decoder.GetAttributeDataArrayForAllPoints(mesh, attr, M.DT_FLOAT32, vBytes, vPtr)) throw fail("cannot read positions");
      if (!decoder.GetTrianglesUInt32Array(mesh, fBytes, fPtr)) throw fail("cannot read faces");
      const vertices = new Float32Array(M.HEAPF32.buffer, vPtr, np * 3).slice();
      const faces = new Uint32Array(M.HEAPU32.buffer, fPtr, nf * 3).slice();
      return new Mesh(vertices, faces);
    } finally {
      M._free(vPtr);
      M._free(fPtr);
    }
  } catch (e) {
    if (e instanceof CloudVolumeError) throw e;
    throw fail(e instanceof Error ? e.message : String(e));
  } finally {
    M.destroy(mesh);
    M.destroy(decoder);
    M.destroy(buffer);
  }
}

/**
 * Encode a triangle mesh with Draco (edgebreaker). Vertices must already be integers in
 * [0, 2^bits - 1]; they are quantized with origin 0 and range 2^bits - 1, so decoding gives
 * them back exactly (Neuroglancer's multires mesh convention).
 */
export async function encodeDraco(mesh: Mesh, bits: number): Promise<Uint8Array> {
  const M = await dracoEncoder();
  const encoder = new M.Encoder();
  const builder = new M.MeshBuilder();
  const dm = new M.Mesh();
  const out = new M.DracoInt8Array();
  try {
    builder.AddFacesToMesh(dm, mesh.numFaces, mesh.faces);
    builder.AddFloatAttributeToMesh(dm, M.POSITION, mesh.numVertices, 3, mesh.vertices);
    encoder.SetAttributeExplicitQuantization(M.POSITION, bits, 3, [0, 0, 0], 2 ** bits - 1);
    encoder.SetSpeedOptions(5, 5);
    encoder.SetEncodingMethod(M.MESH_EDGEBREAKER_ENCODING);
    const len = encoder.EncodeMeshToDracoBuffer(dm, out);
    if (!(len > 0)) throw new CloudVolumeError("ENCODE_FAILED", "Draco could not encode the mesh");
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = out.GetValue(i) & 0xff;
    return bytes;
  } finally {
    M.destroy(out);
    M.destroy(dm);
    M.destroy(builder);
    M.destroy(encoder);
  }
}
