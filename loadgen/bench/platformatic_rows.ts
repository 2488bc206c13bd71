/**
 * The bare `@platformatic/kafka` producer rows of the `ceiling` section: the kafkajs
 * producer rows' shape (8 sends in flight, batch 1, 10 and 100, the same payment
 * records), each as a ratio to kafkajs at the same batch size, with the CPU this
 * process spent per record.
 *
 * @module
 */
import { type BenchContext, guarded } from "./context.ts";
import { paymentRecords } from "./kafkajs.ts";
import { platformaticProduce } from "./platformatic_producer.ts";
import { microsPerRecord } from "./process_cpu.ts";
import { throughputRow } from "./table.ts";

/** Measures the producer at each of the plan's batch sizes into `topic`. */
export async function platformaticProducerRows(
  ctx: BenchContext,
  topic: string,
  kafkajsRate: Map<number, number>,
): Promise<void> {
  for (const { batch, records } of ctx.plan.bare) {
    const name = `bare @platformatic/kafka producer, batch ${batch}, 8 sends in flight`;
    await guarded(ctx, "ceiling", name, async () => {
      ctx.log(name);
      const t = await platformaticProduce(
        ctx.brokers,
        topic,
        paymentRecords(records, batch, `plt${batch}`),
        batch,
        8,
      );
      const kafkajs = kafkajsRate.get(batch);
      ctx.rows.push(throughputRow({
        group: "ceiling",
        name,
        value: t.recordsPerSec,
        unit: "rec/s",
        ...(kafkajs ? { ceiling: { name: `bare kafkajs batch ${batch}`, value: kafkajs } } : {}),
        ...(t.cpuSeconds !== undefined
          ? { cpuMicrosPerRecord: microsPerRecord(t.cpuSeconds, t.records) }
          : {}),
        note: `${t.records} records, idempotent, acks -1, up to 5 requests in flight ` +
          "per connection (the library's default)",
      }));
    });
  }
}
