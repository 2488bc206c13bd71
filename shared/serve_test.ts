import assert from "node:assert/strict";
import { ListenError, serve } from "./serve.ts";

Deno.test("a port that is taken is one sentence naming the variable", async () => {
  // A quiet onListen: Deno.serve would otherwise print "Listening on ..." into the test output.
  const quiet = () => {};
  const first = serve(
    { port: 0, variable: "X_PORT", hostname: "127.0.0.1", onListen: quiet },
    () => new Response(),
  );
  try {
    assert.throws(
      () =>
        serve(
          { port: first.addr.port, variable: "X_PORT", hostname: "127.0.0.1", onListen: quiet },
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
