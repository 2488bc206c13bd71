/**
 * Kafka's compression codecs for kafkajs: GZIP, Snappy, LZ4 and ZSTD, so the services
 * read every record batch that Java and librdkafka producers write, and write with the
 * codec `KAFKA_COMPRESSION` names.
 *
 * kafkajs decodes only GZIP by itself and stops its consumer for good on any other
 * codec, so every process that builds a kafkajs client calls
 * {@linkcode registerKafkaCodecs} once at start (main.ts, the test clients): kafkajs
 * keeps its codecs in one process-wide table, and registering from an import would hide
 * that. All four are pure JavaScript or built into Deno; nothing downloads a binary:
 * - GZIP: `node:zlib`, as kafkajs itself does;
 * - Snappy: `kafkajs-snappy` (snappyjs); it writes raw Snappy, which the Java client
 *   and librdkafka read, and reads raw and xerial-framed Snappy (what Java writes);
 * - LZ4: LZ4 frames with independent blocks on lz4js ({@linkcode createLz4FrameCompressor});
 * - ZSTD: `node:zlib`'s zstd, built into Deno 2.
 *
 * A batch a codec cannot decompress will not decompress on a retry either: the error
 * is a {@linkcode KafkaCodecError} with `retriable: false`, so kafkajs stops the
 * consumer (`restart: false`) with a message naming the codec instead of re-fetching
 * the same batch forever.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { promisify } from "node:util";
import { gzip, unzip, zstdCompress, zstdDecompress } from "node:zlib";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import kafkajsSnappy from "kafkajs-snappy";
import { createLz4FrameCompressor, lz4DecompressFrame } from "./lz4_frame.ts";

/** The values of `KAFKA_COMPRESSION`: Kafka's codec names, as `compression.type` spells them. */
export const KAFKA_COMPRESSIONS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
/** A Kafka compression codec by name. */
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

const TYPES: Record<KafkaCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * The kafkajs `compression` of a send for a codec name.
 *
 * @example
 * ```ts
 * await producer.send({ topic, messages, compression: compressionType("zstd") });
 * ```
 */
export function compressionType(name: KafkaCompression): CompressionTypes {
  return TYPES[name];
}

/** A codec as kafkajs calls it: `compress` gets the records' encoder, `decompress` the bytes. */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** A record batch that could not be compressed or decompressed; retrying cannot help. */
export class KafkaCodecError extends Error {
  override name = "KafkaCodecError";
  /** Read by kafkajs: a non-retriable error stops the consumer instead of a retry loop. */
  readonly retriable = false;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);

function guarded(name: Exclude<KafkaCompression, "none">, codec: KafkaCodec): KafkaCodec {
  const fail = (what: string, bytes: number, error: unknown): never => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new KafkaCodecError(
      `Cannot ${what} a ${name} record batch of ${bytes} bytes: ${reason}`,
      {
        cause: error,
      },
    );
  };
  return {
    async compress(encoder) {
      try {
        return await codec.compress(encoder);
      } catch (error) {
        return fail("compress", encoder.buffer.length, error);
      }
    },
    async decompress(buffer) {
      try {
        return await codec.decompress(buffer);
      } catch (error) {
        return fail("decompress", buffer.length, error);
      }
    },
  };
}

/**
 * The four codecs, each wrapped so a failure is a {@linkcode KafkaCodecError}.
 *
 * @example
 * ```ts
 * const { zstd } = kafkaCodecs();
 * const bytes = await zstd.compress({ buffer: Buffer.from("payment") });
 * ```
 */
export function kafkaCodecs(): Record<Exclude<KafkaCompression, "none">, KafkaCodec> {
  const [gz, gunzip] = [promisify(gzip), promisify(unzip)];
  const [zstd, unzstd] = [promisify(zstdCompress), promisify(zstdDecompress)];
  const lz4 = createLz4FrameCompressor();
  return {
    gzip: guarded("gzip", {
      compress: (encoder) => gz(encoder.buffer),
      decompress: (buffer) => gunzip(buffer),
    }),
    snappy: guarded("snappy", (kafkajsSnappy as () => KafkaCodec)()),
    lz4: guarded("lz4", {
      compress: (encoder) => Promise.resolve(asBuffer(lz4(encoder.buffer))),
      decompress: (buffer) => Promise.resolve(asBuffer(lz4DecompressFrame(buffer))),
    }),
    zstd: guarded("zstd", {
      compress: (encoder) => zstd(encoder.buffer),
      decompress: (buffer) => unzstd(buffer),
    }),
  };
}

/** kafkajs' process-wide codec table (`CompressionCodecs`), or one shaped like it. */
export type CodecRegistry = Record<number, () => KafkaCodec>;

/**
 * Puts GZIP, Snappy, LZ4 and ZSTD into kafkajs' codec table. Call it once at start in
 * every process that builds a kafkajs client; calling it again changes nothing.
 *
 * @example
 * ```ts
 * registerKafkaCodecs();
 * const kafka = new Kafka(kafkaClientConfig(config.kafka));
 * ```
 */
export function registerKafkaCodecs(
  registry: CodecRegistry = CompressionCodecs as unknown as CodecRegistry,
): void {
  const codecs = kafkaCodecs();
  for (const name of ["gzip", "snappy", "lz4", "zstd"] as const) {
    const codec = codecs[name];
    registry[TYPES[name]] = () => codec;
  }
}
