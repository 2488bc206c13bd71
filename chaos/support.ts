/**
 * Shared pieces of the fault-injection tests (not a test file): the quick mode switch,
 * a steady stream of HTTP payments that records every answer, and where a topic's
 * leaders are. The exactly-once verdict on what the stream got is
 * `@payments/testing/exactly_once`.
 *
 * @module
 */
import { paymentRequest } from "@payments/testing/payments";
import { testClient } from "@payments/testing/kafka";

/** Whether `CHAOS_QUICK=1` asks for shorter outages and fewer payments (CI), read when asked. */
export function quickMode(env: Pick<Deno.Env, "get"> = Deno.env): boolean {
  return env.get("CHAOS_QUICK") === "1";
}

/** `full` normally, `quick` under `CHAOS_QUICK=1`. */
export function pick<T>(full: T, quick: T): T {
  return quickMode() ? quick : full;
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One HTTP answer of the stream. */
export interface Sent {
  id: string;
  status: number;
  at: number;
  detail?: string;
}

/** A running stream of `POST /payments`. */
export interface PaymentStream {
  readonly sent: Sent[];
  /** Stops sending, waits for requests in flight, returns every answer. */
  stop(): Promise<Sent[]>;
}

/**
 * Posts one unique payment every `1000 / ratePerSecond` ms (open model, at most
 * `maxInFlight` outstanding) to `url`; a request that fails at the HTTP level is
 * recorded with status 0.
 */
export function startPaymentStream(
  url: string,
  options: { ratePerSecond: number; prefix: string; maxInFlight?: number },
): PaymentStream {
  const sent: Sent[] = [];
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  let running = true;
  const post = async (id: string) => {
    try {
      const response = await fetch(`${url}/payments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          paymentRequest(id, { amount: 12.5, merchant_id: "M-1", customer_id: id }),
        ),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      sent.push({
        id,
        status: response.status,
        at: Date.now(),
        ...(response.status >= 400 ? { detail: text.slice(0, 300) } : {}),
      });
    } catch (error) {
      sent.push({ id, status: 0, at: Date.now(), detail: String(error) });
    }
  };
  const loop = (async () => {
    const interval = 1000 / options.ratePerSecond;
    let next = performance.now();
    while (running) {
      if (inFlight.size < (options.maxInFlight ?? 200)) {
        const id = `${options.prefix}-${++seq}`;
        const p = post(id).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      next += interval;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  return {
    sent,
    async stop() {
      running = false;
      await loop;
      await Promise.all([...inFlight]);
      return sent;
    },
  };
}

/** Counts answers by status. */
export function countStatuses(sent: Sent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of sent) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return counts;
}

/** Partition to leader node id of `topic`. */
export async function leaderCounts(brokers: string[], topic: string): Promise<Map<number, number>> {
  const admin = testClient(brokers, { clientId: "chaos" }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const counts = new Map<number, number>();
    for (const p of topics[0]?.partitions ?? []) {
      counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
    }
    return counts;
  } finally {
    await admin.disconnect();
  }
}

/** Env that makes a service notice a dead broker quickly. */
export const FAST_FAILURE_ENV: Record<string, string> = {
  KAFKA_CONNECTION_TIMEOUT_MS: "1000",
  KAFKA_REQUEST_TIMEOUT_MS: "3000",
  PRODUCER_SEND_TIMEOUT_MS: "2000",
  PRODUCER_READY_INTERVAL_MS: "500",
  PRODUCER_RETRY_AFTER_SECONDS: "1",
  CONSUMER_SESSION_TIMEOUT_MS: "6000",
  LAG_MONITOR_ENABLED: "false",
  LOG_LEVEL: "warning",
};
