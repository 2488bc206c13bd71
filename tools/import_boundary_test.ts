import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isTestSupport, productModules, testSupportImports } from "./import_boundary.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

Deno.test("no product module imports @payments/testing or other test support, directly or through another", async () => {
  const modules = await productModules(ROOT);
  for (const main of ["producer/main.ts", "consumer/main.ts", "loadgen/bench/main.ts"]) {
    assert.ok(modules.includes(main), `${main} is checked`);
  }
  assert.ok(!modules.some(isTestSupport), "no test file counts as product");
  assert.deepEqual(await testSupportImports(ROOT), []);
});

/** A workspace of a product member and a testing member, as small as Deno takes it. */
async function workspace(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "payments-boundary-" });
  const all: Record<string, string> = {
    "deno.json": JSON.stringify({ workspace: ["./shared", "./consumer", "./testing"] }),
    "shared/deno.json": JSON.stringify({ name: "@payments/shared", exports: { "./a": "./a.ts" } }),
    "consumer/deno.json": JSON.stringify({ name: "@payments/consumer", exports: "./main.ts" }),
    "testing/deno.json": JSON.stringify({
      name: "@payments/testing",
      exports: { "./kafka": "./kafka.ts" },
    }),
    "testing/kafka.ts": "export const client = 1;\n",
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

Deno.test("the boundary check names each product module that reaches test support, and only those", async () => {
  const root = await workspace({
    // By member name, by relative path, by a type import, and through a product module.
    "shared/a.ts": 'export { client } from "@payments/testing/kafka";\n',
    "shared/b.ts": 'import "../testing/kafka.ts";\n',
    "shared/c.ts":
      'import type { client } from "@payments/testing/kafka";\nexport type C = typeof client;\n',
    "consumer/main.ts": 'import "@payments/shared/a";\nimport "./testing.ts";\n',
    // Test support may use test support.
    "consumer/testing.ts": 'import "@payments/testing/kafka";\n',
    "consumer/main_test.ts": 'import "@payments/testing/kafka";\n',
  });
  try {
    const found = (await testSupportImports(root))
      .map((v) => `${v.importer} -> ${v.imported}`).sort();
    assert.deepEqual(found, [
      "consumer/main.ts -> consumer/testing.ts",
      "shared/a.ts -> testing/kafka.ts",
      "shared/b.ts -> testing/kafka.ts",
      "shared/c.ts -> testing/kafka.ts",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
