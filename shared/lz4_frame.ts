/**
 * LZ4 frames the way Kafka stores them (the LZ4 frame format with independent blocks),
 * on the pure-JavaScript block codec of `lz4js`.
 *
 * lz4js' own `compress` flags its frames as dependent-block streams, which Kafka's Java
 * code refuses ("Dependent block stream is unsupported": the broker rejects the batch),
 * so frames are written here: 64 KiB blocks, each compressed on its own, no checksums.
 * The frame declares 256 KiB as its largest block although no block exceeds 64 KiB: the
 * reference LZ4 decoder (librdkafka, lz4-java's JNI build) requires the last match of a
 * block to start 12 bytes before the end of its output buffer, and lz4js may place one
 * 10 bytes before the end of its input; with room to spare in every block buffer that
 * rule can never bite. Reading uses lz4js' `decompress`, which reads independent and
 * dependent blocks, with or without content size and checksums (it skips checksums;
 * the broker validated the batch when it was produced).
 *
 * @module
 */
import lz4js from "lz4js";
import xxh32js from "lz4js/xxh32.js";

/** The parts of lz4js used here (the package ships no types). */
interface Lz4Js {
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    srcIndex: number,
    srcLength: number,
    hashTable: Uint32Array,
  ): number;
  decompress(src: Uint8Array): Uint8Array;
}
const lz4 = lz4js as Lz4Js;
const xxh32 = (xxh32js as { hash(seed: number, src: Uint8Array, at: number, n: number): number })
  .hash;

const MAGIC = [0x04, 0x22, 0x4d, 0x18]; // 0x184D2204, little-endian
/** FLG: version 01, independent blocks, no block checksum, no content size or checksum. */
const FLG = 0x60;
/** BD: largest block 256 KiB (block size id 5). */
const BD = 5 << 4;
const BLOCK_BYTES = 64 * 1024;
const UNCOMPRESSED_BIT = 0x80000000;
/** lz4js' hash table: 2^16 slots of input positions (plus one; 0 means empty). */
const HASH_SLOTS = 1 << 16;

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
}

const bound = (n: number) => n + Math.ceil(n / 255) + 16;

/**
 * Returns a compressor of whole inputs into one LZ4 frame each, which Kafka brokers,
 * the Java client and librdkafka accept. It keeps lz4js' 256 KiB hash table between
 * calls (allocating it per call costs more than compressing a small batch); calls are
 * synchronous, so one compressor never works on two inputs at once.
 *
 * @example
 * ```ts
 * const compress = createLz4FrameCompressor();
 * const frame = compress(new TextEncoder().encode("payment payment payment"));
 * lz4DecompressFrame(frame); // the same bytes
 * ```
 */
export function createLz4FrameCompressor(): (input: Uint8Array) => Uint8Array {
  const hashTable = new Uint32Array(HASH_SLOTS);
  return (input) => {
    let capacity = 7 + 4;
    for (let start = 0; start < input.length; start += BLOCK_BYTES) {
      capacity += 4 + bound(Math.min(BLOCK_BYTES, input.length - start));
    }
    const out = new Uint8Array(capacity);
    out.set(MAGIC, 0);
    out[4] = FLG;
    out[5] = BD;
    out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
    let at = 7;
    for (let start = 0; start < input.length; start += BLOCK_BYTES) {
      const block = input.subarray(start, Math.min(input.length, start + BLOCK_BYTES));
      // A cleared table and a block-relative view: no match reaches into another block
      // (or into an earlier input, whose positions could even make a zero offset).
      hashTable.fill(0);
      const size = lz4.compressBlock(block, out.subarray(at + 4), 0, block.length, hashTable);
      if (size === 0 || size >= block.length) {
        writeU32(out, at, (UNCOMPRESSED_BIT | block.length) >>> 0);
        out.set(block, at + 4);
        at += 4 + block.length;
      } else {
        writeU32(out, at, size);
        at += 4 + size;
      }
    }
    writeU32(out, at, 0);
    return out.subarray(0, at + 4);
  };
}

/** {@linkcode createLz4FrameCompressor} for one input. */
export function lz4CompressFrame(input: Uint8Array): Uint8Array {
  return createLz4FrameCompressor()(input);
}

/**
 * Decompresses one LZ4 frame as Kafka producers write it (Java, librdkafka, ours).
 * Throws on a frame it cannot read.
 */
export function lz4DecompressFrame(frame: Uint8Array): Uint8Array {
  return lz4.decompress(frame);
}
