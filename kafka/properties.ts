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
  /** This node's id (default 1). */
  nodeId?: number;
  /**
   * A static quorum of several controllers (`controller.quorum.voters`, formatted
   * without `--standalone`); default: a dynamic one-node quorum of this node.
   */
  voters?: QuorumVoter[];
  /** Replication factor of the internal topics and default of new topics (default 1). */
  replicationFactor?: number;
  /** `min.insync.replicas`, also of the internal topics (default 1). */
  minInsyncReplicas?: number;
  /** An authenticated client listener; the PLAINTEXT one moves to `internalPort`. */
  security?: ListenerSecurity;
}

/** One member of a static KRaft quorum. */
export interface QuorumVoter {
  id: number;
  host: string;
  controllerPort: number;
}

/** SASL mechanisms the launcher can enable. */
export type LauncherSaslMechanism = "PLAIN" | "SCRAM-SHA-512";

/**
 * The client listener's security. The listener named `CLIENT` on `port` speaks
 * `protocol`; a PLAINTEXT listener named `INTERNAL` on `internalPort` carries
 * replication and the launcher's own admin calls (and lets tests read back).
 */
export interface ListenerSecurity {
  protocol: "SASL_PLAINTEXT" | "SASL_SSL";
  internalPort: number;
  /** Users accepted with SASL/PLAIN (name to password). */
  plainUsers: Record<string, string>;
  /** Whether SCRAM-SHA-512 is enabled (its users are created at format time). */
  scram: boolean;
  /** PEM keystore (PKCS#8 key, then the certificate chain); required for SASL_SSL. */
  keystoreFile?: string;
}

/** The broker configuration as key/value pairs, defaults first, overrides applied. */
export function serverProperties(options: ServerPropertiesOptions): Map<string, string> {
  const { host, port, controllerPort, logDir } = options;
  const rf = options.replicationFactor ?? 1;
  const minIsr = options.minInsyncReplicas ?? 1;
  const quorum: Record<string, PropertyValue> = options.voters
    ? {
      "controller.quorum.voters": options.voters
        .map((v) => `${v.id}@${v.host}:${v.controllerPort}`).join(","),
    }
    // Dynamic quorum: pairs with `StorageTool format --standalone`.
    : { "controller.quorum.bootstrap.servers": `${host}:${controllerPort}` };
  const defaults: Record<string, PropertyValue> = {
    "process.roles": "broker,controller",
    "node.id": options.nodeId ?? 1,
    ...quorum,
    "controller.listener.names": "CONTROLLER",
    ...(options.security ? securedListeners(options) : {
      "listeners": `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
      "advertised.listeners": `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
      "inter.broker.listener.name": "PLAINTEXT",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    }),
    "log.dirs": logDir,
    "num.partitions": 1,
    // Topics are created on purpose (by the launcher), never by a typo in a client.
    "auto.create.topics.enable": false,
    // One node: every internal topic gets replication factor and min ISR 1, and few
    // partitions so the first group or transaction does not wait for 50 of them.
    // A cluster raises both (replication factor 3, min ISR 2).
    "offsets.topic.replication.factor": rf,
    "offsets.topic.num.partitions": 3,
    "transaction.state.log.replication.factor": rf,
    "transaction.state.log.min.isr": minIsr,
    "transaction.state.log.num.partitions": 3,
    "share.coordinator.state.topic.replication.factor": rf,
    "share.coordinator.state.topic.min.isr": minIsr,
    "share.coordinator.state.topic.num.partitions": 3,
    "default.replication.factor": rf,
    "min.insync.replicas": minIsr,
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

/** Listeners, JAAS and keystore entries of a SASL_PLAINTEXT or SASL_SSL client listener. */
function securedListeners(options: ServerPropertiesOptions): Record<string, PropertyValue> {
  const { host, port, controllerPort } = options;
  const security = options.security!;
  const internal = `INTERNAL://${host}:${security.internalPort}`;
  const mechanisms: LauncherSaslMechanism[] = [
    "PLAIN",
    ...(security.scram ? ["SCRAM-SHA-512" as const] : []),
  ];
  const plainUsers = Object.entries(security.plainUsers)
    .map(([user, password]) => ` user_${jaasToken(user)}="${jaasValue(password)}"`).join("");
  const props: Record<string, PropertyValue> = {
    "listeners": `CLIENT://${host}:${port},${internal},CONTROLLER://${host}:${controllerPort}`,
    "advertised.listeners":
      `CLIENT://${host}:${port},${internal},CONTROLLER://${host}:${controllerPort}`,
    "inter.broker.listener.name": "INTERNAL",
    "listener.security.protocol.map":
      `CLIENT:${security.protocol},INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT`,
    "sasl.enabled.mechanisms": mechanisms.join(","),
    "listener.name.client.plain.sasl.jaas.config":
      `org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`,
  };
  if (security.scram) {
    props["listener.name.client.scram-sha-512.sasl.jaas.config"] =
      "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  }
  if (security.protocol === "SASL_SSL") {
    if (!security.keystoreFile) throw new Error("SASL_SSL needs security.keystoreFile");
    props["listener.name.client.ssl.keystore.type"] = "PEM";
    props["listener.name.client.ssl.keystore.location"] = security.keystoreFile;
  }
  return props;
}

/** A JAAS option name: user names become `user_<name>`, so only safe characters. */
function jaasToken(text: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new Error(`SASL user name "${text}" must be 1-64 of [A-Za-z0-9._-]`);
  }
  return text;
}

/** A quoted JAAS value: no quotes, backslashes or control characters. */
function jaasValue(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/["\\\x00-\x1f]/.test(text)) {
    throw new Error("SASL passwords must not contain quotes, backslashes or control characters");
  }
  return text;
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
