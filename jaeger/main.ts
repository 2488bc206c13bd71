// deno-lint-ignore-file no-console
/**
 * `deno task jaeger`: a local Jaeger v2 in the foreground, receiving OTLP and answering
 * its query API, until SIGINT or SIGTERM.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parsePortArgument, runCommand } from "@payments/shared/cli";
import { ensureJaeger, JAEGER_MODULE_VERSION, JAEGER_VERSION, jaegerBinaryPath } from "./build.ts";
import { DEFAULT_JAEGER_PORTS, type JaegerPorts } from "./config.ts";
import { startJaeger } from "./launcher.ts";

const HELP = `Usage: deno task jaeger [--otlp-grpc-port N] [--otlp-http-port N] [--query-port N]
                         [--query-grpc-port N] [--data-dir DIR] [--ignore-sigint]
       deno task jaeger --build

Runs Jaeger ${JAEGER_VERSION} in the foreground with traces kept in memory, prints one
ready line and stops cleanly on Ctrl-C or SIGTERM. The first run builds it from the Go
module proxy (jaeger/tool/go.mod pins Go module ${JAEGER_MODULE_VERSION}; needs Go 1.24.6+,
about 5 minutes on 2 cores) into ${jaegerBinaryPath()}, shared by every checkout.
This binary has no UI (its page is a placeholder): read traces through the query API, or
run compose.yaml's Jaeger for the UI.

Options:
  --otlp-grpc-port N   OTLP over gRPC (env JAEGER_OTLP_GRPC_PORT, default ${DEFAULT_JAEGER_PORTS.otlpGrpc})
  --otlp-http-port N   OTLP over HTTP (env JAEGER_OTLP_HTTP_PORT, default ${DEFAULT_JAEGER_PORTS.otlpHttp})
  --query-port N       query API (env JAEGER_QUERY_PORT, default ${DEFAULT_JAEGER_PORTS.query})
  --query-grpc-port N  query gRPC API (env JAEGER_QUERY_GRPC_PORT, default ${DEFAULT_JAEGER_PORTS.queryGrpc})
  --data-dir DIR       config and jaeger.log (env JAEGER_DATA_DIR, default .data/jaeger)
  --ignore-sigint      stop on SIGTERM only (for a parent that stops its children in order)
  --build              only build the binary when it is missing, print its path, exit
                       (deno task test's prerequisites run this)
  -h, --help           show this help

Environment:
  JAEGER_BIN           use this binary instead of building one
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "otlp-grpc-port": { type: "string" },
      "otlp-http-port": { type: "string" },
      "query-port": { type: "string" },
      "query-grpc-port": { type: "string" },
      "data-dir": { type: "string" },
      "ignore-sigint": { type: "boolean" },
      build: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.build) {
    console.log(await ensureJaeger());
    return 0;
  }
  const env = Deno.env.toObject();
  const port = (flag: string | undefined, name: string, fallback: number) =>
    parsePortArgument(flag ?? env[name] ?? String(fallback), name);
  const ports: JaegerPorts = {
    otlpGrpc: port(
      values["otlp-grpc-port"],
      "JAEGER_OTLP_GRPC_PORT",
      DEFAULT_JAEGER_PORTS.otlpGrpc,
    ),
    otlpHttp: port(
      values["otlp-http-port"],
      "JAEGER_OTLP_HTTP_PORT",
      DEFAULT_JAEGER_PORTS.otlpHttp,
    ),
    query: port(values["query-port"], "JAEGER_QUERY_PORT", DEFAULT_JAEGER_PORTS.query),
    queryGrpc: port(
      values["query-grpc-port"],
      "JAEGER_QUERY_GRPC_PORT",
      DEFAULT_JAEGER_PORTS.queryGrpc,
    ),
  };
  const dir = values["data-dir"] ?? env.JAEGER_DATA_DIR ?? ".data/jaeger";
  if (values["ignore-sigint"]) Deno.addSignalListener("SIGINT", () => {});
  const signals: Deno.Signal[] = values["ignore-sigint"] ? ["SIGTERM"] : ["SIGINT", "SIGTERM"];

  const binary = env.JAEGER_BIN || await ensureJaeger();
  const jaeger = await startJaeger({ ports, dir, binary });
  const stopped = Promise.withResolvers<void>();
  let requested = false;
  const onSignal = () => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    requested = true;
    jaeger.stop().then(() => stopped.resolve(), stopped.reject);
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  console.log(
    `Jaeger ${jaeger.version} ready: OTLP ${jaeger.otlpHttpUrl} (HTTP) and ` +
      `${jaeger.otlpGrpcUrl} (gRPC), query API ${jaeger.queryUrl}/api/services ` +
      `(log: ${jaeger.logFile})`,
  );
  console.log(
    `  export to it: OTEL_DENO=true OTEL_EXPORTER_OTLP_ENDPOINT=${jaeger.otlpHttpUrl}; ` +
      `list traces: curl '${jaeger.queryUrl}/api/traces?service=payment-producer&limit=5'`,
  );
  const code = await Promise.race([stopped.promise.then(() => undefined), jaeger.exited]);
  if (requested) {
    await stopped.promise;
    return 0;
  }
  console.error(`Jaeger exited unexpectedly with code ${code}; see ${jaeger.logFile}:`);
  console.error(await jaeger.tail(20));
  return 1;
}

if (import.meta.main) await runCommand(main);
