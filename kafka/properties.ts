/**
 * Renders the `server.properties` of a single-node KRaft broker (broker and controller
 * in one JVM) tuned for fast local starts.
 *
 * @module
 */

/** Value types accepted in property overrides. */
export type PropertyValue = string | number | boolean;

/** What {@linkcode serverProperties} needs to know. */
export interface ServerPropertiesOptions {
  /** Interface both listeners bind to and advertise, e.g. `127.0.0.1`. */
  host: string;
  /** Client (PLAINTEXT) port. */
  port: number;
  /** KRaft controller port. */
  controllerPort: number;
  /** Directory holding the partitions and the metadata log (`log.dirs`). */
  logDir: string;
  /** Extra properties; they win over the defaults. */
  overrides?: Record<string, PropertyValue>;
}

/** The broker configuration as key/value pairs, defaults first, overrides applied. */
export function serverProperties(options: ServerPropertiesOptions): Map<string, string> {
  const { host, port, controllerPort, logDir } = options;
  const defaults: Record<string, PropertyValue> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    // Dynamic quorum: pairs with `StorageTool format --standalone`.
    "controller.quorum.bootstrap.servers": `${host}:${controllerPort}`,
    "controller.listener.names": "CONTROLLER",
    "listeners": `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "log.dirs": logDir,
    "num.partitions": 1,
    // Topics are created on purpose (by the launcher), never by a typo in a client.
    "auto.create.topics.enable": false,
    // One node: every internal topic gets replication factor and min ISR 1, and few
    // partitions so the first group or transaction does not wait for 50 of them.
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 3,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "transaction.state.log.num.partitions": 3,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "share.coordinator.state.topic.num.partitions": 3,
    "min.insync.replicas": 1,
    // Consumer groups form at once instead of after the default 3 s.
    "group.initial.rebalance.delay.ms": 0,
    // After a crash (SIGKILL) the controller refuses the restarted broker's registration
    // until the old session expires: 9 s by default, 3 s here (heartbeats every 0.5 s).
    "broker.heartbeat.interval.ms": 500,
    "broker.session.timeout.ms": 3000,
  };
  const merged = new Map<string, string>();
  for (const [key, value] of Object.entries({ ...defaults, ...options.overrides })) {
    merged.set(key, String(value));
  }
  return merged;
}

/** Renders properties in the `java.util.Properties` file format (ISO-8859-1 safe). */
export function renderProperties(properties: Map<string, string>): string {
  const lines = ["# Written by kafka/launcher.ts on every start; edits are overwritten."];
  for (const [key, value] of properties) {
    lines.push(`${escape(key, true)}=${escape(value, false)}`);
  }
  return lines.join("\n") + "\n";
}

/** Escapes like `Properties.store`: Kafka reads the file as ISO-8859-1, hence `\uXXXX`. */
function escape(text: string, isKey: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = text.charCodeAt(i);
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === " " && (isKey || i === 0)) out += "\\ ";
    else if (isKey && (ch === "=" || ch === ":")) out += `\\${ch}`;
    else if ((ch === "#" || ch === "!") && i === 0) out += `\\${ch}`;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out;
}
