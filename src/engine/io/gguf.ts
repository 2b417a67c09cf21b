/**
 * GGUF v3 files (llama.cpp's model format): a streaming, atomic writer and a reader of the header, metadata and
 * tensor infos (plus tensor data for F32, F16 and Q8_0).
 *
 * Layout (little-endian): magic `GGUF`, u32 version, u64 tensor count, u64 KV count; the KV pairs
 * (u64-length-prefixed UTF-8 key, u32 value type, value; an array is u32 item type, u64 count, items); the tensor
 * infos (name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset into the data section); padding to
 * `general.alignment` (default 32); then the tensor data, each tensor starting at a multiple of the alignment.
 * `ne[0]` is the contiguous dimension, so shapes are reversed relative to PyTorch: a torch Linear weight
 * [out, in] is stored with ne = [in, out].
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/** GGUF metadata value types. */
export const GgufValueType = {
  U8: 0,
  I8: 1,
  U16: 2,
  I16: 3,
  U32: 4,
  I32: 5,
  F32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  U64: 10,
  I64: 11,
  F64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];
export type GgufScalarType = Exclude<GgufValueType, typeof GgufValueType.ARRAY>;

/** The ggml tensor types this module can write and decode. */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Values per Q8_0 block; a block is an f16 scale followed by 32 int8 values (34 bytes). */
export const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

export type GgufScalar = number | bigint | boolean | string;

export type GgufKv =
  | { key: string; type: GgufScalarType; value: GgufScalar }
  | {
      key: string;
      type: typeof GgufValueType.ARRAY;
      itemType: GgufScalarType;
      value: readonly GgufScalar[];
    };

/** A tensor to write. `data` may be a function, called once when the tensor's bytes are written. */
export interface GgufTensorInput {
  name: string;
  /** GGUF order: ne[0] is the contiguous (innermost) dimension. */
  ne: readonly number[];
  /** Storage type (default F32). Q8_0 needs ne[0] to be a multiple of 32. */
  type?: GgmlType;
  data: Float32Array | (() => Float32Array);
}

export class GgufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GgufError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Number formats

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half bits of a float32 value, rounding to nearest even (as ggml's GGML_FP32_TO_FP16). */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000; // implicit leading 1
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m += 1;
    return sign | m; // may carry into the smallest normal, which is the right encoding
  }
  let out = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out += 1; // carry may round up to inf: correct
  return out;
}

/** The float value of IEEE half bits. */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Bytes of `count` values stored as `type`. */
export function ggmlTypeBytes(type: GgmlType, count: number): number {
  switch (type) {
    case GgmlType.F32:
      return count * 4;
    case GgmlType.F16:
      return count * 2;
    case GgmlType.Q8_0:
      if (count % Q8_0_BLOCK !== 0) throw new GgufError(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values`);
      return (count / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
    default:
      throw new GgufError(`unsupported ggml type ${String(type)}`);
  }
}

export function ggmlTypeName(type: number): string {
  return type === 0 ? 'F32' : type === 1 ? 'F16' : type === 8 ? 'Q8_0' : `type ${type}`;
}

/**
 * Q8_0 quantisation exactly as llama.cpp's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 (float32),
 * stored as f16; q = roundf(x * (1/d)) with ties away from zero.
 */
export function quantizeQ8_0(data: Float32Array): Buffer {
  const out = Buffer.alloc(ggmlTypeBytes(GgmlType.Q8_0, data.length));
  for (let b = 0, at = 0; b < data.length; b += Q8_0_BLOCK, at += Q8_0_BLOCK_BYTES) {
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(data[b + j] as number));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    out.writeUInt16LE(f32ToF16Bits(d), at);
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const x = Math.fround((data[b + j] as number) * id);
      const q = Math.sign(x) * Math.round(Math.abs(x));
      out.writeInt8(q === 0 ? 0 : q, at + 2 + j);
    }
  }
  return out;
}

/** Encodes float values as the bytes of a ggml tensor of `type`. */
export function encodeTensorData(type: GgmlType, data: Float32Array, name = 'tensor'): Buffer {
  switch (type) {
    case GgmlType.F32: {
      const out = Buffer.alloc(data.length * 4);
      for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i] as number, i * 4);
      return out;
    }
    case GgmlType.F16: {
      const out = Buffer.alloc(data.length * 2);
      for (let i = 0; i < data.length; i++) {
        const v = data[i] as number;
        if (!Number.isFinite(v) || Math.abs(v) > 65504) {
          throw new GgufError(`${name}: value ${v} at index ${i} does not fit in F16`);
        }
        out.writeUInt16LE(f32ToF16Bits(v), i * 2);
      }
      return out;
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(data);
    default:
      throw new GgufError(`${name}: unsupported ggml type ${String(type)}`);
  }
}

/** Decodes `count` values of a ggml tensor (F32, F16 or Q8_0) from `bytes`. */
export function decodeTensorData(type: number, bytes: Uint8Array, count: number): Float32Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (type === GgmlType.F32) {
    for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(i * 4);
  } else if (type === GgmlType.F16) {
    for (let i = 0; i < count; i++) out[i] = f16BitsToF32(buf.readUInt16LE(i * 2));
  } else if (type === GgmlType.Q8_0) {
    for (let b = 0, at = 0; b < count; b += Q8_0_BLOCK, at += Q8_0_BLOCK_BYTES) {
      const d = f16BitsToF32(buf.readUInt16LE(at));
      for (let j = 0; j < Q8_0_BLOCK; j++) out[b + j] = d * buf.readInt8(at + 2 + j);
    }
  } else {
    throw new GgufError(`cannot decode ggml ${ggmlTypeName(type)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Writer

/** A growable little-endian byte writer (used for the header; tensor data is written tensor by tensor). */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.ensure(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    this.length = this.buf.writeBigUInt64LE(BigInt(v), this.length);
  }
  scalar(type: GgufScalarType, value: GgufScalar, key: string): void {
    const num = (): number => {
      if (typeof value !== 'number' && typeof value !== 'bigint') {
        throw new GgufError(`metadata ${key}: expected a number, got ${typeof value}`);
      }
      return Number(value);
    };
    const big = (): bigint => {
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
      throw new GgufError(`metadata ${key}: expected an integer, got ${String(value)}`);
    };
    this.ensure(8);
    const b = this.buf;
    const at = this.length;
    switch (type) {
      case GgufValueType.U8:
        this.length = b.writeUInt8(num(), at);
        return;
      case GgufValueType.I8:
        this.length = b.writeInt8(num(), at);
        return;
      case GgufValueType.U16:
        this.length = b.writeUInt16LE(num(), at);
        return;
      case GgufValueType.I16:
        this.length = b.writeInt16LE(num(), at);
        return;
      case GgufValueType.U32:
        this.length = b.writeUInt32LE(num(), at);
        return;
      case GgufValueType.I32:
        this.length = b.writeInt32LE(num(), at);
        return;
      case GgufValueType.F32:
        this.length = b.writeFloatLE(num(), at);
        return;
      case GgufValueType.BOOL:
        if (typeof value !== 'boolean') throw new GgufError(`metadata ${key}: expected a boolean`);
        this.length = b.writeUInt8(value ? 1 : 0, at);
        return;
      case GgufValueType.STRING: {
        if (typeof value !== 'string') throw new GgufError(`metadata ${key}: expected a string`);
        const s = Buffer.from(value, 'utf8');
        this.u64(s.length);
        this.ensure(s.length);
        this.buf.set(s, this.length);
        this.length += s.length;
        return;
      }
      case GgufValueType.U64:
        this.length = b.writeBigUInt64LE(big(), at);
        return;
      case GgufValueType.I64:
        this.length = b.writeBigInt64LE(big(), at);
        return;
      case GgufValueType.F64:
        this.length = b.writeDoubleLE(num(), at);
        return;
      default:
        throw new GgufError(`metadata ${key}: unknown value type ${String(type)}`);
    }
  }
  padTo(alignment: number): void {
    const target = alignUp(this.length, alignment);
    this.ensure(target - this.length);
    this.buf.fill(0, this.length, target);
    this.length = target;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

interface PlannedTensor {
  input: GgufTensorInput;
  type: GgmlType;
  count: number;
  bytes: number;
  offset: number;
}

/** The header (up to the data section, padded) and each tensor's placement. */
function planGguf(
  kvs: readonly GgufKv[],
  tensors: readonly GgufTensorInput[],
  alignment: number,
): { header: Buffer; planned: PlannedTensor[]; dataBytes: number } {
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new GgufError(`alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const alignKv = kvs.find((kv) => kv.key === 'general.alignment');
  if (alignKv && Number(alignKv.value) !== alignment) {
    throw new GgufError(
      `general.alignment is ${String(alignKv.value)} but the file is written with ${alignment}`,
    );
  }
  const keys = new Set<string>();
  const w = new ByteWriter();
  w.u32(0x46554747); // "GGUF" little-endian
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const kv of kvs) {
    if (keys.has(kv.key)) throw new GgufError(`duplicate metadata key ${kv.key}`);
    keys.add(kv.key);
    w.scalar(GgufValueType.STRING, kv.key, kv.key);
    w.u32(kv.type);
    if (kv.type === GgufValueType.ARRAY) {
      w.u32(kv.itemType);
      w.u64(kv.value.length);
      for (const item of kv.value) w.scalar(kv.itemType, item, kv.key);
    } else {
      w.scalar(kv.type, kv.value, kv.key);
    }
  }
  const names = new Set<string>();
  const planned: PlannedTensor[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new GgufError(`duplicate tensor ${t.name}`);
    names.add(t.name);
    if (t.ne.length < 1 || t.ne.length > 4 || t.ne.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new GgufError(`tensor ${t.name}: bad dimensions [${t.ne.join(', ')}]`);
    }
    const type = t.type ?? GgmlType.F32;
    const count = t.ne.reduce((a, b) => a * b, 1);
    if (type === GgmlType.Q8_0 && (t.ne[0] as number) % Q8_0_BLOCK !== 0) {
      throw new GgufError(
        `tensor ${t.name}: Q8_0 needs ne[0] to be a multiple of ${Q8_0_BLOCK}, got ${t.ne[0]}`,
      );
    }
    const bytes = ggmlTypeBytes(type, count);
    w.scalar(GgufValueType.STRING, t.name, t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(type);
    w.u64(offset);
    planned.push({ input: t, type, count, bytes, offset });
    offset = alignUp(offset + bytes, alignment);
  }
  w.padTo(alignment);
  return { header: w.result(), planned, dataBytes: offset };
}

function tensorBytes(p: PlannedTensor): Buffer {
  const data = typeof p.input.data === 'function' ? p.input.data() : p.input.data;
  if (data.length !== p.count) {
    throw new GgufError(
      `tensor ${p.input.name}: ne [${p.input.ne.join(', ')}] needs ${p.count} values, got ${data.length}`,
    );
  }
  return encodeTensorData(p.type, data, p.input.name);
}

/** Serializes a GGUF v3 file into one buffer (small files and tests; use `writeGguf` for models). */
export function encodeGguf(
  kvs: readonly GgufKv[],
  tensors: readonly GgufTensorInput[],
  alignment = GGUF_DEFAULT_ALIGNMENT,
): Buffer {
  const { header, planned, dataBytes } = planGguf(kvs, tensors, alignment);
  const out = Buffer.alloc(header.length + dataBytes);
  header.copy(out, 0);
  for (const p of planned) tensorBytes(p).copy(out, header.length + p.offset);
  return out;
}

/**
 * Writes a GGUF v3 file tensor by tensor (only one tensor's bytes are in memory at a time; lazy `data`
 * functions let callers convert each tensor just before it is written). The file appears atomically: it is
 * written to a temporary file next to `path`, flushed, and renamed over `path`.
 */
export async function writeGguf(
  path: string,
  kvs: readonly GgufKv[],
  tensors: readonly GgufTensorInput[],
  alignment = GGUF_DEFAULT_ALIGNMENT,
): Promise<{ bytes: number }> {
  const { header, planned, dataBytes } = planGguf(kvs, tensors, alignment);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(header, 0, header.length, 0);
    for (const p of planned) {
      const bytes = tensorBytes(p);
      await fh.write(bytes, 0, bytes.length, header.length + p.offset);
    }
    await fh.truncate(header.length + dataBytes); // zero padding after the last tensor
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (error) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  return { bytes: header.length + dataBytes };
}

// ---------------------------------------------------------------------------------------------------------
// Reader

export type GgufValue = GgufScalar | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: number;
  /** Offset relative to the start of the data section. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  /** Value type of each metadata key (for arrays: `ARRAY`; see `metadataItemTypes`). */
  metadataTypes: Map<string, GgufValueType>;
  metadataItemTypes: Map<string, GgufScalarType>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute file offset of the data section. */
  dataOffset: number;
}

class NeedMore extends Error {}

class ByteReader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): number {
    if (this.at + n > this.buf.length) throw new NeedMore();
    const at = this.at;
    this.at += n;
    return at;
  }
  u32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }
  u64(): number {
    const v = this.buf.readBigUInt64LE(this.need(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`u64 ${v} is too large`);
    return Number(v);
  }
  str(): string {
    const n = this.u64();
    const at = this.need(n);
    return this.buf.toString('utf8', at, at + n);
  }
  scalar(type: number): GgufScalar {
    const b = this.buf;
    switch (type) {
      case GgufValueType.U8:
        return b.readUInt8(this.need(1));
      case GgufValueType.I8:
        return b.readInt8(this.need(1));
      case GgufValueType.U16:
        return b.readUInt16LE(this.need(2));
      case GgufValueType.I16:
        return b.readInt16LE(this.need(2));
      case GgufValueType.U32:
        return b.readUInt32LE(this.need(4));
      case GgufValueType.I32:
        return b.readInt32LE(this.need(4));
      case GgufValueType.F32:
        return b.readFloatLE(this.need(4));
      case GgufValueType.BOOL:
        return b.readUInt8(this.need(1)) !== 0;
      case GgufValueType.STRING:
        return this.str();
      case GgufValueType.U64: {
        const v = b.readBigUInt64LE(this.need(8));
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case GgufValueType.I64: {
        const v = b.readBigInt64LE(this.need(8));
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
      }
      case GgufValueType.F64:
        return b.readDoubleLE(this.need(8));
      default:
        throw new GgufError(`unknown metadata value type ${type}`);
    }
  }
}

function parseHeader(buf: Buffer, source: string): GgufHeader {
  const r = new ByteReader(buf);
  if (buf.length >= 4 && buf.toString('latin1', 0, 4) !== 'GGUF') {
    throw new GgufError(`${source} is not a GGUF file (bad magic)`);
  }
  r.u32();
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new GgufError(`${source}: unsupported GGUF version ${version}`);
  const nTensors = r.u64();
  const nKv = r.u64();
  const metadata = new Map<string, GgufValue>();
  const metadataTypes = new Map<string, GgufValueType>();
  const metadataItemTypes = new Map<string, GgufScalarType>();
  for (let i = 0; i < nKv; i++) {
    const key = r.str();
    const type = r.u32() as GgufValueType;
    metadataTypes.set(key, type);
    if (type === GgufValueType.ARRAY) {
      const itemType = r.u32() as GgufScalarType;
      const n = r.u64();
      const items: GgufValue[] = [];
      for (let j = 0; j < n; j++) items.push(r.scalar(itemType));
      metadata.set(key, items);
      metadataItemTypes.set(key, itemType);
    } else {
      metadata.set(key, r.scalar(type));
    }
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = r.str();
    const nDims = r.u32();
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(r.u64());
    const type = r.u32();
    const offset = r.u64();
    tensors.push({ name, ne, type, offset });
  }
  const alignment = Number(metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT);
  return {
    version,
    metadata,
    metadataTypes,
    metadataItemTypes,
    tensors,
    alignment,
    dataOffset: alignUp(r.at, alignment),
  };
}

/** Reads the header, metadata and tensor infos of a GGUF file (not the tensor data). */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let want = Math.min(size, 1 << 20);
    for (;;) {
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, 0);
      try {
        return parseHeader(buf.subarray(0, bytesRead), path);
      } catch (error) {
        if (!(error instanceof NeedMore)) throw error;
        if (want >= size) throw new GgufError(`${path}: truncated GGUF header`);
        want = Math.min(size, want * 4);
      }
    }
  } finally {
    await fh.close();
  }
}

/** Parses a GGUF header from an in-memory file. */
export function parseGgufHeader(buf: Buffer, source = 'buffer'): GgufHeader {
  try {
    return parseHeader(buf, source);
  } catch (error) {
    if (error instanceof NeedMore) throw new GgufError(`${source}: truncated GGUF header`);
    throw error;
  }
}

/** Reads and decodes one tensor (F32, F16 or Q8_0) of a GGUF file. */
export async function readGgufTensor(path: string, header: GgufHeader, name: string): Promise<Float32Array> {
  const info = header.tensors.find((t) => t.name === name);
  if (!info) throw new GgufError(`${path}: no tensor ${name}`);
  const count = info.ne.reduce((a, b) => a * b, 1);
  const bytes = ggmlTypeBytes(info.type as GgmlType, count);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, header.dataOffset + info.offset);
    if (bytesRead !== bytes) throw new GgufError(`${path}: tensor ${name} is truncated`);
    return decodeTensorData(info.type, buf, count);
  } finally {
    await fh.close();
  }
}
