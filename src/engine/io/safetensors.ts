/**
 * Safetensors reading and writing (https://github.com/huggingface/safetensors).
 *
 * Layout: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON (padded with spaces), then the data
 * buffer. The JSON maps tensor names to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the start of the data buffer) plus an optional `__metadata__` object of string → string.
 *
 * Everything is returned as Float32Array: F32 is read straight from disk into the final array (no
 * intermediate copy), F16 and BF16 are converted exactly. Tensors are read one at a time through a file
 * handle, so shards larger than 2 GiB work (Node's readFile refuses those).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';

/** Every dtype the format defines; only F32, F16 and BF16 can be read into Float32Array. */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** The dtypes we read and write (converted to / from Float32). */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** A tensor as read: `dtype` is what the file stored, `data` is always Float32. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

/** A tensor entry from the header, without its data. Offsets are relative to the data buffer. */
export interface SafetensorsHeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsHeaderEntry>;
  /** Bytes of JSON (N); the data buffer starts at byte 8 + N. */
  headerSize: number;
  fileSize: number;
}

/** A tensor to write. `dtype` overrides the file-wide dtype option for this tensor. */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  dtype?: FloatDtype;
}

export interface WriteSafetensorsOptions {
  /** Stored dtype for every tensor that does not name its own; default F32. */
  dtype?: FloatDtype;
}

/** An error about one safetensors file; the message always starts with the file path. */
export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** Same cap as the reference implementation (100 MB of header JSON). */
const MAX_HEADER_SIZE = 100_000_000;
/** fs read/write calls take at most 2^31-1 bytes. */
const IO_CHUNK = 1 << 30;

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new Error('safetensors IO needs a little-endian host');
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------------
// Float conversions (exact; round-to-nearest-even when narrowing, as torch does)

/** f16 bit pattern → f32 bit pattern, for all 65536 inputs, built on first use. */
let f16Table: Uint32Array | null = null;

function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / nan (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0; // ±0
  // subnormal: mant * 2^-24; normalise the mantissa.
  let e = -14;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | ((e + 127) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

function getF16Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** Convert f16 bit patterns to Float32 (exact, including subnormals, ±inf and nan). */
export function f16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const table = getF16Table();
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  return dst;
}

/** Convert bf16 bit patterns to Float32 (exact: bf16 is the top half of an f32). */
export function bf16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
  return dst;
}

/** f32 bit pattern → f16 bit pattern, round to nearest even; overflow → ±inf; nan stays nan. */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000;
    const shift = 14 - e; // 14..24
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h; // a carry into 0x400 is exactly the smallest normal
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may reach 0x7c00 = inf: correct
  return sign | h;
}

/** f32 bit pattern → bf16 bit pattern, round to nearest even (torch semantics); nan → quiet nan. */
export function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) & 0x8000) | 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Convert Float32 to f16 bit patterns. */
export function f32ToF16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToF16Bits(bits[i]!);
  return dst;
}

/** Convert Float32 to bf16 bit patterns. */
export function f32ToBf16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToBf16Bits(bits[i]!);
  return dst;
}

// ---------------------------------------------------------------------------------------------------
// Reading

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Validate the parsed header JSON against the data buffer size. */
function validateHeader(
  file: string,
  json: unknown,
  dataSize: number,
): Omit<SafetensorsHeader, 'headerSize' | 'fileSize'> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(file, 'header JSON is not an object');
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsHeaderEntry>();
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SafetensorsError(file, '__metadata__ must be an object of string → string');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(file, `__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        }
        metadata[k] = v;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SafetensorsError(file, `tensor ${name}: header entry is not an object`);
    }
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) {
      throw new SafetensorsError(file, `tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new SafetensorsError(file, `tensor ${name}: shape must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw new SafetensorsError(file, `tensor ${name}: data_offsets must be [begin, end] integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end)
      throw new SafetensorsError(file, `tensor ${name}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataSize) {
      throw new SafetensorsError(
        file,
        `tensor ${name}: data_offsets [${begin}, ${end}] run past the data buffer (${dataSize} bytes); is the file truncated?`,
      );
    }
    const itemSize = ITEM_SIZE[dtype as SafetensorsDtype];
    const expected = product(shape as number[]) * itemSize;
    if (end - begin !== expected) {
      throw new SafetensorsError(
        file,
        `tensor ${name}: ${dtype} ${fmtShape(shape as number[])} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    tensors.set(name, {
      dtype: dtype as SafetensorsDtype,
      shape: [...(shape as number[])],
      dataOffsets: [begin, end],
    });
  }
  // Non-overlapping: sort by begin and check each starts at or after the previous end.
  const sorted = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1]!;
    const [name, cur] = sorted[i]!;
    if (cur.dataOffsets[0] < prev.dataOffsets[1]) {
      throw new SafetensorsError(
        file,
        `tensors ${prevName} [${prev.dataOffsets.join(', ')}] and ${name} [${cur.dataOffsets.join(', ')}] overlap`,
      );
    }
  }
  return { metadata, tensors };
}

async function readFully(
  fh: fs.FileHandle,
  target: Uint8Array,
  position: number,
  file: string,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const len = Math.min(IO_CHUNK, target.length - done);
    const { bytesRead } = await fh.read(target, done, len, position + done);
    if (bytesRead === 0)
      throw new SafetensorsError(file, `unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

async function readHeaderFrom(fh: fs.FileHandle, file: string): Promise<SafetensorsHeader> {
  const fileSize = (await fh.stat()).size;
  if (fileSize < 8) {
    throw new SafetensorsError(file, `truncated: ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const lenBuf = new Uint8Array(8);
  await readFully(fh, lenBuf, 0, file);
  const n64 = new DataView(lenBuf.buffer).getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) {
    throw new SafetensorsError(
      file,
      `header length ${n64} runs past the end of the file (${fileSize} bytes); truncated or not a safetensors file`,
    );
  }
  const headerSize = Number(n64);
  if (headerSize > MAX_HEADER_SIZE) {
    throw new SafetensorsError(file, `header length ${headerSize} exceeds the ${MAX_HEADER_SIZE}-byte limit`);
  }
  const headerBytes = new Uint8Array(headerSize);
  await readFully(fh, headerBytes, 8, file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    throw new SafetensorsError(file, 'header is not a JSON object (must start with "{")');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(file, `header is not valid JSON: ${(err as Error).message}`);
  }
  return { ...validateHeader(file, json, fileSize - 8 - headerSize), headerSize, fileSize };
}

async function openForRead(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SafetensorsError(file, 'file not found');
    throw new SafetensorsError(file, `cannot open: ${(err as Error).message}`);
  }
}

/** Read and validate only the header (names, dtypes, shapes, offsets, metadata). */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const fh = await openForRead(file);
  try {
    return await readHeaderFrom(fh, file);
  } finally {
    await fh.close();
  }
}

export interface ReadSafetensorsOptions {
  /** Read only the tensors for which this returns true (the header is still fully validated). */
  filter?: (name: string) => boolean;
}

/**
 * Read a safetensors file into Float32Arrays. F32 is read directly into the returned array; F16 and
 * BF16 are converted exactly. Any other dtype is an error naming the file and tensor.
 */
export async function readSafetensors(
  file: string,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsFile> {
  assertLittleEndian();
  const fh = await openForRead(file);
  try {
    const header = await readHeaderFrom(fh, file);
    const dataStart = 8 + header.headerSize;
    const tensors = new Map<string, SafetensorsTensor>();
    for (const [name, entry] of header.tensors) {
      if (options.filter && !options.filter(name)) continue;
      const count = product(entry.shape);
      const position = dataStart + entry.dataOffsets[0];
      let data: Float32Array;
      if (entry.dtype === 'F32') {
        data = new Float32Array(count);
        await readFully(fh, new Uint8Array(data.buffer), position, file);
      } else if (entry.dtype === 'F16' || entry.dtype === 'BF16') {
        const raw = new Uint16Array(count);
        await readFully(fh, new Uint8Array(raw.buffer), position, file);
        data = entry.dtype === 'F16' ? f16ToF32(raw) : bf16ToF32(raw);
      } else {
        throw new SafetensorsError(
          file,
          `tensor ${name} has dtype ${entry.dtype}; only F32, F16 and BF16 can be loaded as float32`,
        );
      }
      tensors.set(name, { dtype: entry.dtype, shape: entry.shape, data });
    }
    return { metadata: header.metadata, tensors };
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** A temp path next to `file` (same directory, so rename is atomic). */
export function tempPathFor(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function writeFully(fh: fs.FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const len = Math.min(IO_CHUNK, bytes.length - done);
    const { bytesWritten } = await fh.write(bytes, done, len);
    done += bytesWritten;
  }
}

function byteCompare(a: string, b: string): number {
  // Rust (the reference) sorts names by UTF-8 bytes; compare code points to match it.
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!.codePointAt(0)!;
    const y = cb[i]!.codePointAt(0)!;
    if (x !== y) return x - y;
  }
  return ca.length - cb.length;
}

/**
 * Build the header bytes (length prefix + JSON padded with spaces to a multiple of 8) for tensors in
 * sorted name order. Returns the header and the layout used.
 */
function buildHeader(
  file: string,
  tensors: Map<string, TensorToWrite>,
  metadata: Record<string, string> | undefined,
  defaultDtype: FloatDtype,
): { header: Uint8Array; order: Array<{ name: string; tensor: TensorToWrite; dtype: FloatDtype }> } {
  const names = [...tensors.keys()].sort(byteCompare);
  const json: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(file, `metadata ${k} must be a string`);
    }
    json.__metadata__ = metadata;
  }
  const order: Array<{ name: string; tensor: TensorToWrite; dtype: FloatDtype }> = [];
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    if (name === '' || name === '__metadata__')
      throw new SafetensorsError(file, `invalid tensor name "${name}"`);
    if (!Array.isArray(tensor.shape) || !tensor.shape.every(isNonNegInt)) {
      throw new SafetensorsError(file, `tensor ${name}: shape must be non-negative integers`);
    }
    if (!(tensor.data instanceof Float32Array)) {
      throw new SafetensorsError(file, `tensor ${name}: data must be a Float32Array`);
    }
    const count = product(tensor.shape);
    if (tensor.data.length !== count) {
      throw new SafetensorsError(
        file,
        `tensor ${name}: shape ${fmtShape(tensor.shape)} has ${count} elements but data has ${tensor.data.length}`,
      );
    }
    const dtype = tensor.dtype ?? defaultDtype;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      throw new SafetensorsError(
        file,
        `tensor ${name}: cannot write dtype ${String(dtype)} (F32, F16, BF16)`,
      );
    }
    const bytes = count * ITEM_SIZE[dtype];
    json[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    order.push({ name, tensor, dtype });
  }
  let jsonBytes = new TextEncoder().encode(JSON.stringify(json));
  const pad = (8 - (jsonBytes.length % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(jsonBytes.length + pad).fill(0x20);
    padded.set(jsonBytes);
    jsonBytes = padded;
  }
  const header = new Uint8Array(8 + jsonBytes.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  header.set(jsonBytes, 8);
  return { header, order };
}

/**
 * Write tensors as a safetensors file: sorted by name, header padded with spaces to 8 bytes (as the
 * reference implementation does), F32 unless `options.dtype` (or a tensor's own `dtype`) says F16/BF16.
 * Atomic: written to a temp file in the same directory, fsynced, then renamed over `file`.
 */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  assertLittleEndian();
  const { header, order } = buildHeader(file, tensors, metadata, options.dtype ?? 'F32');
  const tmp = tempPathFor(file);
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(tmp, 'w');
    await writeFully(fh, header);
    for (const { tensor, dtype } of order) {
      const src = tensor.data;
      let bytes: Uint8Array;
      if (dtype === 'F32') bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
      else {
        const half = dtype === 'F16' ? f32ToF16(src) : f32ToBf16(src);
        bytes = new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
      }
      await writeFully(fh, bytes);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fs.rename(tmp, file);
  } catch (err) {
    if (fh) await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof SafetensorsError) throw err;
    throw new SafetensorsError(file, `write failed: ${(err as Error).message}`);
  }
}
