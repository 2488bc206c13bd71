import assert from "node:assert/strict";
import { ListenError, serve } from "./serve.ts";

Deno.test("a port that is taken is one sentence naming the variable", async () => {
  const first = serve({ port: 0, variable: "X_PORT", hostname: "127.0.0.1" }, () => new Response());
  try {
    assert.throws(
      () =>
        serve(
          { port: first.addr.port, variable: "X_PORT", hostname: "127.0.0.1" },
          () => new Response(),
        ),
      (error: unknown) =>
        error instanceof ListenError &&
        error.message === `Cannot listen on port ${first.addr.port} (X_PORT): ` +
            "another process is listening there",
    );
  } finally {
    await first.shutdown();
  }
});
