import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import snappyjs from "snappyjs";
import xxh32js from "lz4js/xxh32.js";
import { CompressionTypes } from "kafkajs";
import {
  type CodecRegistry,
  compressionType,
  KAFKA_COMPRESSIONS,
  KafkaCodecError,
  kafkaCodecs,
  registerKafkaCodecs,
} from "./kafka_codecs.ts";
import { lz4CompressFrame } from "./lz4_frame.ts";

const codecs = kafkaCodecs();
const NAMES = ["gzip", "snappy", "lz4", "zstd"] as const;
const payments = (n: number) =>
  Buffer.from(
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({ payment_id: `P-${i}`, amount: i % 977, merchant_id: `M-${i % 7}` })).join(
        "",
      ),
  );

Deno.test("each codec gives back exactly the bytes it compressed, small or many blocks long", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...NAMES),
      fc.oneof(
        fc.uint8Array({ maxLength: 2000 }),
        fc.uint8Array({ minLength: 60_000, maxLength: 200_000 }),
        fc.integer({ min: 1, max: 3000 }).map((n) => new Uint8Array(payments(n))),
      ),
      async (name, bytes) => {
        const codec = codecs[name];
        const compressed = await codec.compress({ buffer: Buffer.from(bytes) });
        const back = await codec.decompress(compressed);
        assert.ok(Buffer.isBuffer(back), "kafkajs' decoder needs a Buffer");
        assert.deepEqual(new Uint8Array(back), bytes);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("repetitive payment JSON gets smaller with every codec", async () => {
  const bytes = payments(500);
  for (const name of NAMES) {
    const compressed = await codecs[name].compress({ buffer: bytes });
    assert.ok(compressed.length < bytes.length / 2, `${name}: ${compressed.length} bytes`);
  }
});

Deno.test("LZ4 frames have independent blocks of at most 64 KiB and a valid header checksum", () => {
  const frame = lz4CompressFrame(payments(4000)); // ~250 KB: several blocks
  assert.deepEqual([...frame.subarray(0, 4)], [0x04, 0x22, 0x4d, 0x18], "magic");
  const flg = frame[4]!;
  assert.equal(flg >> 6, 1, "version 01");
  assert.equal(flg & 0x20, 0x20, "block independence: Kafka's Java code refuses dependent blocks");
  assert.equal(flg & 0x1c, 0, "no checksums or content size");
  const xxh32 = (xxh32js as { hash(s: number, b: Uint8Array, at: number, n: number): number })
    .hash;
  assert.equal(frame[6], (xxh32(0, frame, 4, 2) >>> 8) & 0xff, "header checksum");
  let at = 7;
  let blocks = 0;
  for (;;) {
    const word = new DataView(frame.buffer, frame.byteOffset + at, 4).getUint32(0, true);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    assert.ok(size <= 64 * 1024 + 16, `block ${blocks} holds ${size} bytes`);
    at += size;
    blocks++;
  }
  assert.equal(at, frame.length, "the end mark closes the frame");
  assert.ok(blocks >= 4, `${blocks} blocks`);
});

Deno.test("Snappy reads the xerial framing the Java client writes as well as raw Snappy", async () => {
  const first = payments(300);
  const second = payments(200);
  const chunk = (bytes: Buffer) => {
    const compressed = Buffer.from(snappyjs.compress(bytes));
    const size = Buffer.alloc(4);
    size.writeUInt32BE(compressed.length);
    return Buffer.concat([size, compressed]);
  };
  // Magic, version 1, compatible version 1, then length-prefixed Snappy blocks.
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  const xerial = Buffer.concat([header, chunk(first), chunk(second)]);
  assert.deepEqual(await codecs.snappy.decompress(xerial), Buffer.concat([first, second]));
  assert.deepEqual(
    await codecs.snappy.decompress(Buffer.from(snappyjs.compress(first))),
    first,
  );
});

Deno.test("bytes a codec cannot read fail with a non-retriable error naming the codec", async () => {
  for (const name of NAMES) {
    await assert.rejects(
      () => codecs[name].decompress(Buffer.from("this is not a compressed record batch")),
      (error: unknown) => {
        assert.ok(error instanceof KafkaCodecError, `${name}: ${error}`);
        assert.equal(error.retriable, false);
        assert.match(
          error.message,
          new RegExp(`^Cannot decompress a ${name} record batch of 37 bytes: `),
        );
        return true;
      },
    );
  }
});

Deno.test("registerKafkaCodecs fills GZIP, Snappy, LZ4 and ZSTD of a codec table, again harmlessly", async () => {
  const registry: CodecRegistry = {};
  registerKafkaCodecs(registry);
  registerKafkaCodecs(registry);
  assert.deepEqual(Object.keys(registry).map(Number).sort(), [
    CompressionTypes.GZIP,
    CompressionTypes.Snappy,
    CompressionTypes.LZ4,
    CompressionTypes.ZSTD,
  ]);
  const bytes = payments(50);
  for (const name of NAMES) {
    const codec = registry[compressionType(name)]!();
    assert.deepEqual(await codec.decompress(await codec.compress({ buffer: bytes })), bytes);
  }
});

Deno.test("compressionType maps every KAFKA_COMPRESSION name to kafkajs' type", () => {
  assert.deepEqual(KAFKA_COMPRESSIONS.map(compressionType), [
    CompressionTypes.None,
    CompressionTypes.GZIP,
    CompressionTypes.Snappy,
    CompressionTypes.LZ4,
    CompressionTypes.ZSTD,
  ]);
});
