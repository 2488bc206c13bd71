import assert from "node:assert/strict";
import { checkJava, checkMaven, parseJavaMajorVersion } from "./java.ts";
import { KafkaLauncherError } from "./errors.ts";

Deno.test("parseJavaMajorVersion reads modern and legacy version strings", () => {
  assert.equal(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15'), 17);
  assert.equal(parseJavaMajorVersion('openjdk version "21" 2023-09-19'), 21);
  assert.equal(parseJavaMajorVersion('java version "1.8.0_392"'), 8);
  assert.equal(parseJavaMajorVersion("no version here"), undefined);
});

Deno.test("checkJava says how to install Java when the binary is missing", async () => {
  const error = await checkJava("/nonexistent/java").catch((e) => e);
  assert.ok(error instanceof KafkaLauncherError);
  assert.match(error.message, /no Java runtime found/);
  assert.match(error.message, /apt-get install openjdk-17-jdk-headless maven/);
  assert.doesNotMatch(error.message, /\n/);
});

Deno.test("checkMaven says how to install Maven when the binary is missing", async () => {
  const error = await checkMaven("/nonexistent/mvn").catch((e) => e);
  assert.ok(error instanceof KafkaLauncherError);
  assert.match(error.message, /Maven \(`\/nonexistent\/mvn`\) is not on PATH/);
});

Deno.test("checkJava accepts the installed Java 17+", async () => {
  assert.ok(await checkJava() >= 17);
});
