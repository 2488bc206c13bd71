import assert from "node:assert/strict";
import { join } from "node:path";
import {
  defaultCacheDir,
  ensureJaeger,
  GO_INSTALL_HINT,
  goVersion,
  JAEGER_MODULE_VERSION,
  JAEGER_PACKAGE,
  jaegerBinaryPath,
  TOOL_MODULE_DIR,
} from "./build.ts";
import { JaegerError } from "./errors.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

Deno.test("jaeger/tool/go.mod pins the Jaeger version the cache is keyed by, as a Go tool", async () => {
  const goMod = await Deno.readTextFile(join(TOOL_MODULE_DIR, "go.mod"));
  assert.match(goMod, new RegExp(`^tool ${JAEGER_PACKAGE}$`, "m"));
  const required = goMod.match(/^\s+github\.com\/jaegertracing\/jaeger (v\S+)/m)?.[1];
  assert.equal(required, JAEGER_MODULE_VERSION);
  const goSum = await Deno.readTextFile(join(TOOL_MODULE_DIR, "go.sum"));
  assert.ok(goSum.includes(`github.com/jaegertracing/jaeger ${JAEGER_MODULE_VERSION} h1:`));
});

Deno.test("the Jaeger binary is cached per version under XDG_CACHE_HOME, else ~/.cache", () => {
  assert.equal(defaultCacheDir(env({ XDG_CACHE_HOME: "/x", HOME: "/h" })), "/x/payments");
  assert.equal(defaultCacheDir(env({ HOME: "/h" })), "/h/.cache/payments");
  assert.throws(() => defaultCacheDir(env({})), JaegerError);
  assert.equal(jaegerBinaryPath("/c"), `/c/jaeger-${JAEGER_MODULE_VERSION}/jaeger`);
});

Deno.test("ensureJaeger returns a cached binary without running Go", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "payments-jaeger-cache-" });
  try {
    const binary = jaegerBinaryPath(cacheDir);
    await Deno.mkdir(join(binary, ".."), { recursive: true });
    await Deno.writeTextFile(binary, "#!/bin/sh\n", { mode: 0o755 });
    const lines: string[] = [];
    const path = await ensureJaeger({ cacheDir, go: "/nonexistent/go", log: (l) => lines.push(l) });
    assert.equal(path, binary);
    assert.deepEqual(lines, []);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("ensureJaeger without Go fails with the command that installs it, and builds nothing", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "payments-jaeger-cache-" });
  try {
    // A file that is not executable is no binary: it would be rebuilt.
    const binary = jaegerBinaryPath(cacheDir);
    await Deno.mkdir(join(binary, ".."), { recursive: true });
    await Deno.writeTextFile(binary, "half a binary", { mode: 0o644 });
    await assert.rejects(
      ensureJaeger({ cacheDir, go: "/nonexistent/go", log: () => {} }),
      (error: Error) => {
        assert.ok(error instanceof JaegerError);
        assert.match(error.message, /Go \(`\/nonexistent\/go`\) is not installed/);
        assert.ok(error.message.includes(GO_INSTALL_HINT));
        assert.match(error.message, /apt-get install golang-go/);
        return true;
      },
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("ensureJaeger with a Go older than 1.21 (Debian 12's) fails saying so, and builds nothing", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "payments-jaeger-cache-" });
  try {
    const go = join(cacheDir, "go");
    await Deno.writeTextFile(
      go,
      `#!/bin/sh\n[ "$1" = version ] && echo "go version go1.19.8 linux/amd64" && exit 0\nexit 3\n`,
      { mode: 0o755 },
    );
    await assert.rejects(
      ensureJaeger({ cacheDir, go, log: () => {} }),
      (error: Error) => {
        assert.ok(error instanceof JaegerError);
        assert.match(error.message, /is Go 1\.19, too old/);
        assert.ok(error.message.includes(GO_INSTALL_HINT));
        return true;
      },
    );
    assert.equal(await Deno.stat(jaegerBinaryPath(cacheDir)).then(() => true, () => false), false);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("goVersion reads major and minor from go version's output", () => {
  assert.deepEqual(goVersion("go version go1.26.8 linux/amd64"), [1, 26]);
  assert.deepEqual(goVersion("go version go1.19.8 linux/amd64\n"), [1, 19]);
  assert.equal(goVersion("something else"), undefined);
});

/** A `go` that records each call and, for `build -o <path>`, writes a script there. */
async function fakeGo(dir: string): Promise<{ go: string; calls: () => Promise<string[]> }> {
  const go = join(dir, "go");
  const calls = join(dir, "calls");
  await Deno.writeTextFile(
    go,
    `#!/bin/sh
echo "$PWD $*" >> "${calls}"
[ "$1" = version ] && exit 0
while [ "$#" -gt 1 ]; do [ "$1" = -o ] && out=$2; shift; done
sleep 0.3
printf '#!/bin/sh\\n' > "$out" && chmod +x "$out"
`,
    { mode: 0o755 },
  );
  return {
    go,
    calls: async () => (await Deno.readTextFile(calls)).trim().split("\n"),
  };
}

Deno.test("ensureJaeger go-builds the pinned package in jaeger/tool once, however many callers at once", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "payments-jaeger-cache-" });
  try {
    const { go, calls } = await fakeGo(cacheDir);
    const lines: string[] = [];
    const options = { cacheDir, go, progress: false, log: (l: string) => lines.push(l) };
    const paths = await Promise.all([ensureJaeger(options), ensureJaeger(options)]);
    const binary = jaegerBinaryPath(cacheDir);
    assert.deepEqual(paths, [binary, binary]);
    assert.ok(((await Deno.stat(binary)).mode! & 0o111) !== 0, "an executable binary");
    const builds = (await calls()).filter((call) => call.includes(" build "));
    assert.equal(builds.length, 1, `one build, not ${builds.length}`);
    assert.match(
      builds[0]!,
      new RegExp(
        `^${TOOL_MODULE_DIR.replace(/\/$/, "")} build -ldflags .+ -o \\S+ ${JAEGER_PACKAGE}$`,
      ),
    );
    assert.equal(lines.filter((l) => l.startsWith("Building Jaeger")).length, 1, lines.join("\n"));
    const left = [...Deno.readDirSync(join(binary, ".."))].map((e) => e.name).sort();
    assert.deepEqual(left, ["build.lock", "jaeger"], "no half-written binary left behind");
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
