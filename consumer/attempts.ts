/**
 * Processing attempts of one payment: simulated latency and failures (demo and chaos
 * settings), injected faults (tests), and retries with exponential backoff. A payment
 * that keeps failing is given up after `maxAttempts` and dead-lettered by the caller.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { TransientError } from "@payments/shared/kafka_errors";
import type { PaymentEvent } from "@payments/shared/payment";
import type { ConsumerSettings } from "./config.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import { backoffMs } from "./processor.ts";

/** Injected fault: called before each processing attempt; throw {@linkcode TransientError} to fail it. */
export type FaultInjector = (event: PaymentEvent, attempt: number) => void | Promise<void>;

/** How the attempts of one payment ended. */
export type AttemptsOutcome =
  | { ok: true }
  | { ok: false; error: string; attempts: number };

/** What the attempts need. */
export interface AttemptsDeps {
  settings: Pick<
    ConsumerSettings,
    "simulatedLatencyMs" | "failureRate" | "maxAttempts" | "retryBackoffMs" | "retryBackoffMaxMs"
  >;
  metrics: Pick<ConsumerMetrics, "errors" | "retries">;
  topic: string;
  logger: Logger;
  faults?: FaultInjector;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Creates the attempt runner. */
export function createAttempts(
  deps: AttemptsDeps,
): (event: PaymentEvent) => Promise<AttemptsOutcome> {
  const { settings, metrics, logger, topic } = deps;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? defaultSleep;
  const { min, max } = settings.simulatedLatencyMs;

  const once = async (event: PaymentEvent, attempt: number) => {
    if (max > 0) await sleep(min + random() * (max - min));
    if (deps.faults) await deps.faults(event, attempt);
    if (settings.failureRate > 0 && random() < settings.failureRate) {
      throw new TransientError(`simulated transient failure (rate ${settings.failureRate})`);
    }
  };
  // Nothing to wait for and nothing that can fail: the common case costs no promise.
  if (max === 0 && !deps.faults && settings.failureRate === 0) {
    const ok: AttemptsOutcome = { ok: true };
    return () => Promise.resolve(ok);
  }

  return async (event) => {
    for (let n = 1;; n++) {
      try {
        await once(event, n);
        return { ok: true };
      } catch (error) {
        metrics.errors.labels("processing").inc();
        const message = (error as Error).message;
        if (n >= settings.maxAttempts) {
          logger.warn("Payment {payment_id} failed {attempts} attempts: dead-lettering", {
            payment_id: event.payment_id,
            attempts: n,
            error: message,
          });
          return { ok: false, error: message, attempts: n };
        }
        const delay = backoffMs(n, settings.retryBackoffMs, settings.retryBackoffMaxMs);
        metrics.retries.labels(topic).inc();
        logger.warn("Payment {payment_id} attempt {attempt} failed, retrying in {delay_ms} ms", {
          payment_id: event.payment_id,
          attempt: n,
          delay_ms: delay,
          error: message,
        });
        await sleep(delay);
      }
    }
  };
}
