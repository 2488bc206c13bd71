/**
 * Consumer instances for a bench row: each with its own state directory and port,
 * advertising its address, in one group; stopped (SIGTERM) and cleaned up together.
 *
 * @module
 */
import type { TopicNames } from "@payments/shared/topics";
import { freePort } from "@payments/kafka/ports";
import { type ServiceProcess, startService } from "@payments/stack/services";

/** Running consumer instances of one group. */
export interface Instances extends AsyncDisposable {
  readonly all: ServiceProcess[];
  /** Starts one more instance (in a state directory of its own, or `dir`). */
  add(dir?: string): Promise<ServiceProcess>;
  /** Why the group cannot progress (an instance exited), for a drain's failure check. */
  failure(): string | undefined;
}

/** What the instances share. */
export interface InstancesOptions {
  brokers: string[];
  topics: TopicNames;
  groupId: string;
  env: Record<string, string>;
  /** Extra flags of `deno run` for every instance. */
  denoFlags?: string[];
}

/** Starts `count` consumer instances and waits until each is ready. */
export async function startInstances(options: InstancesOptions, count: number): Promise<Instances> {
  const all: ServiceProcess[] = [];
  const dirs: string[] = [];
  const add = async (dir?: string) => {
    const stateDir = dir ?? await Deno.makeTempDir({ prefix: "bench-instance-" });
    if (!dir) dirs.push(stateDir);
    const port = freePort("127.0.0.1");
    const instance = await startService("consumer", {
      brokers: options.brokers,
      topics: options.topics,
      groupId: options.groupId,
      port,
      waitReady: false,
      ...(options.denoFlags ? { denoFlags: options.denoFlags } : {}),
      env: {
        CONSUMER_STATE_DIR: stateDir,
        CONSUMER_ADVERTISED_URL: `http://127.0.0.1:${port}`,
        ...options.env,
      },
    });
    all.push(instance);
    return instance;
  };
  for (let i = 0; i < count; i++) await add();
  await Promise.all(all.map((i) => i.waitReady(180_000)));
  return {
    all,
    add,
    failure() {
      const dead = all.find((i) => i.hasExited && !stopped.has(i));
      return dead ? `an instance exited:\n${dead.tail(15)}` : undefined;
    },
    async [Symbol.asyncDispose]() {
      for (const i of all) stopped.add(i);
      await Promise.all(all.map((i) => i.stop(30_000).catch(() => 1)));
      await Promise.all(dirs.map((d) => Deno.remove(d, { recursive: true }).catch(() => {})));
    },
  };
}

const stopped = new WeakSet<ServiceProcess>();

/** Marks an instance as stopped on purpose (its exit is not a failure). */
export function markStopped(instance: ServiceProcess): void {
  stopped.add(instance);
}
