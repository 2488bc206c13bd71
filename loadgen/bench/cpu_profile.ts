/**
 * A V8 CPU profile of another Deno process, taken through its inspector (started
 * with `--inspect=127.0.0.1:<port>`), and its self time summed by where the code
 * comes from: each npm package (kafkajs split into record encoding, fetch decoding
 * and the rest), each of our own source files, and the runtime (native calls such as
 * SQLite, garbage collection). That is the profile table of docs/benchmarks.md.
 *
 * @module
 */

/** A V8 CPU profile (Profiler.stop's answer). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    hitCount?: number;
  }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time of one place, in microseconds and as a share of the profile. */
export interface SelfTime {
  place: string;
  micros: number;
  share: number;
}

/** Where a frame's code comes from, for the table. */
export function placeOf(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)") return "idle";
  if (functionName === "(program)" || functionName === "(root)") return "runtime (program)";
  const npm = /node_modules\/\.deno\/([^/]+?)@[^/]+\/node_modules\/(?:@[^/]+\/)?[^/]+\/(.*)$/.exec(
    url,
  );
  if (npm) {
    const [, name, path] = npm as unknown as [string, string, string];
    if (name === "kafkajs") {
      if (
        /protocol\/(recordBatch|record)\/.*encoder|protocol\/encoder|produce\/v\d+\/request/.test(
          path,
        )
      ) {
        return "kafkajs: record encoding";
      }
      if (
        /protocol\/(recordBatch|record)\/.*decoder|protocol\/decoder|fetch\/v\d+\/response/.test(
          path,
        )
      ) {
        return "kafkajs: fetch decoding";
      }
      return "kafkajs: other";
    }
    return name.replace(/^@?/, "");
  }
  const ours = /\/(consumer|producer|shared|lag|stack)\/(.+\.ts)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url === "") return `native: ${functionName || "(anonymous)"}`;
  const runtime = /^(?:ext:|node:)([^/]+(?:\/[^/]+)?)/.exec(url);
  if (runtime) return `runtime: ${runtime[1]}`;
  return url;
}

/** Self time per place, largest first; `idle` left out of the shares. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const micros = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byNode.get(samples[i]!);
    if (!node) continue;
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    micros.set(place, (micros.get(place) ?? 0) + Math.max(0, deltas[i] ?? 0));
  }
  micros.delete("idle");
  const total = [...micros.values()].reduce((a, b) => a + b, 0);
  return [...micros]
    .map(([place, us]) => ({ place, micros: us, share: total > 0 ? us / total : 0 }))
    .sort((a, b) => b.micros - a.micros);
}

/** A profiler session on the inspector at `port`: start, then stop for the profile. */
export async function profiler(port: number) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      socket.send(JSON.stringify({ id: n, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  return {
    start: () => call("Profiler.start"),
    async stop(): Promise<CpuProfile> {
      const { profile } = await call("Profiler.stop") as { profile: CpuProfile };
      socket.close();
      return profile;
    },
  };
}
