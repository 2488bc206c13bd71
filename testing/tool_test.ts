import assert from "node:assert/strict";
import { runTool } from "./tool.ts";

Deno.test("runTool feeds stdin, runs in cwd and returns the exit code with stdout and stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "payments-tool-" });
  try {
    const script = "const text = await new Response(Deno.stdin.readable).text();" +
      "console.log(text.toUpperCase(), Deno.cwd()); console.error('to stderr'); Deno.exit(3);";
    const result = await runTool(Deno.execPath(), ["eval", script], { cwd: dir, stdin: "abc" });
    assert.equal(result.code, 3);
    assert.equal(result.success, false);
    assert.equal(result.stdout, `ABC ${await Deno.realPath(dir)}\n`);
    assert.equal(result.stderr, "to stderr\n");
    assert.equal(result.output, result.stdout + result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runTool names a missing program and its Debian package", async () => {
  await assert.rejects(
    runTool("promtool-not-installed-here", ["--version"]),
    /promtool-not-installed-here is not installed; install it with: apt-get install promtool-not-installed-here/,
  );
});
