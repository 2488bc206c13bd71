// deno-lint-ignore-file no-console
/**
 * Test fixture: starts a broker, prints `{"pid":N}` and idles until killed. The orphan
 * test SIGKILLs this process and checks that the broker JVM goes away with it.
 *
 * Usage: deno run -A kafka/testdata/start_broker.ts <dataDir> <port>
 *
 * @module
 */
import { startKafka } from "../launcher.ts";

const [dataDir, port] = Deno.args;
if (!dataDir || !port) throw new Error("usage: start_broker.ts <dataDir> <port>");
const broker = await startKafka({ dataDir, port: Number(port), topics: [] });
console.log(JSON.stringify({ pid: broker.pid }));
setInterval(() => {}, 60_000);
