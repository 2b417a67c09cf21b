import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Chunk } from '../corpus/types.js';
import { scanJsonl } from '../runtime/jsonl-log.js';
import { requestSeed } from './seeds.js';

/**
 * chunks.jsonl read in blocks of consecutive chunks, in a seeded order of blocks that changes every round:
 * a budget that ends mid-round has then studied a sample spread over the whole corpus rather than its first
 * files. Only the byte offset of each line is kept (8 bytes a chunk); a block is one positional read.
 */
export class ChunkTable {
  private fd: number | undefined;
  /** Chunks per block: at least ~64 blocks per corpus, at most 256 chunks per read. */
  readonly blockSize: number;

  private constructor(
    readonly file: string,
    private readonly offsets: Float64Array,
    readonly count: number,
    private readonly fileSize: number,
    fd: number,
  ) {
    this.fd = fd;
    this.blockSize = Math.max(1, Math.min(256, Math.floor(count / 64)));
  }

  static async open(file: string): Promise<ChunkTable> {
    let offsets = new Float64Array(1024);
    let count = 0;
    await scanJsonl<Chunk>(file, (_chunk, offset) => {
      if (count === offsets.length) {
        const grown = new Float64Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[count++] = offset;
    });
    const fd = openSync(file, 'r');
    return new ChunkTable(file, offsets, count, fstatSync(fd).size, fd);
  }

  get blocks(): number {
    return Math.ceil(this.count / this.blockSize);
  }

  /** The chunks of block `block`, in file order. */
  readBlock(block: number): Chunk[] {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    const first = block * this.blockSize;
    if (!(block >= 0 && first < this.count)) throw new RangeError(`no block ${block} in ${this.file}`);
    const start = this.offsets[first] as number;
    const next = first + this.blockSize;
    const end = next < this.count ? (this.offsets[next] as number) : this.fileSize;
    const data = Buffer.allocUnsafe(end - start);
    for (let done = 0; done < data.length;) {
      const n = readSync(this.fd, data, done, data.length - done, start + done);
      if (n <= 0) throw new Error(`${this.file} changed while reading it`);
      done += n;
    }
    return data
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as Chunk);
  }

  /** A permutation of the block indices that depends only on the seed and the round. */
  blockOrder(seed: number, round: number): Uint32Array {
    const order = new Uint32Array(this.blocks);
    for (let i = 0; i < order.length; i++) order[i] = i;
    let state = requestSeed(seed, 'chunk-order', round) || 1;
    const next = () => {
      // mulberry32
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const tmp = order[i] as number;
      order[i] = order[j] as number;
      order[j] = tmp;
    }
    return order;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
