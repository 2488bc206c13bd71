/**
 * TCP port helpers for the local broker.
 *
 * @module
 */
import { KafkaLauncherError } from "./errors.ts";

/** Returns a TCP port that was free on `host` a moment ago (the OS picks it). */
export function freePort(host = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname: host, port: 0 });
  try {
    return (listener.addr as Deno.NetAddr).port;
  } finally {
    listener.close();
  }
}

/** Throws one clear sentence when `port` on `host` cannot be bound. */
export function assertPortFree(host: string, port: number, role: string): void {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: host, port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new KafkaLauncherError(
        `Cannot start Kafka: ${role} port ${port} on ${host} is already in use ` +
          `(another broker running?); stop that process or choose another port.`,
        { retriable: true, cause: error },
      );
    }
    throw new KafkaLauncherError(
      `Cannot start Kafka: cannot bind ${role} port ${port} on ${host} (${describe(error)}).`,
      { cause: error },
    );
  }
  listener.close();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
