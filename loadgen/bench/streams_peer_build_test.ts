import assert from "node:assert/strict";
import {
  ensureStreamsPeer,
  javaMajorVersion,
  StreamsPeerBuildError,
} from "./streams_peer_build.ts";

Deno.test("javaMajorVersion reads mvn --version and java -version, old and new numbering", () => {
  assert.equal(javaMajorVersion("Apache Maven 3.8.7\nJava version: 17.0.15, vendor: Debian"), 17);
  assert.equal(javaMajorVersion('openjdk version "21.0.2" 2024-01-16'), 21);
  assert.equal(javaMajorVersion('java version "1.8.0_392"'), 8);
  assert.equal(javaMajorVersion("no version here"), undefined);
});

Deno.test("the peer's build says how to get Java when there is none", async () => {
  await assert.rejects(
    ensureStreamsPeer({ java: "/nonexistent/java" }),
    (error: Error) =>
      error instanceof StreamsPeerBuildError &&
      /needs a Java 17\+ runtime, but `\/nonexistent\/java` is not on PATH; install them with `apt-get install openjdk-17-jdk-headless maven`/
        .test(error.message),
  );
});

Deno.test("the peer's build says how to get Maven when it must build and there is none", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "streams-peer-cache-" });
  try {
    await assert.rejects(
      ensureStreamsPeer({ mvn: "/nonexistent/mvn", cacheDir }),
      (error: Error) =>
        error instanceof StreamsPeerBuildError &&
        /is built with Maven, but `\/nonexistent\/mvn` is not on PATH; install them with/
          .test(error.message),
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
