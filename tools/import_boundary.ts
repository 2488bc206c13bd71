/**
 * The boundary between the product and its tests, checked on the real module graph:
 * no module of a product member (`shared`, `producer`, `consumer`, `lag`, `loadgen`,
 * `kafka`, `jaeger`, `stack`) loads test support, directly or through another module. Test
 * support is the `@payments/testing` member, every `*_test.ts`, `testdata/`, and the few
 * member-specific helpers that live beside the code they test
 * ({@linkcode MEMBER_TEST_SUPPORT}). The graph is Deno's own (`deno info --json`), so
 * workspace names, relative paths and re-exports resolve as they do when the code runs.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The workspace members that are the product (those that exist are checked). */
export const PRODUCT_MEMBERS = [
  "shared",
  "producer",
  "consumer",
  "lag",
  "loadgen",
  "kafka",
  "jaeger",
  "stack",
] as const;

/** Test helpers that belong to one product member and live beside its code. */
export const MEMBER_TEST_SUPPORT = [
  "producer/testing.ts",
  "producer/fake_publisher.ts",
  "producer/fake_status_reader.ts",
  "consumer/testing.ts",
] as const;

/** Whether `path` (relative to the repository, `/`-separated) is test support. */
export function isTestSupport(path: string): boolean {
  return path.startsWith("testing/") || path.endsWith("_test.ts") ||
    path.split("/").includes("testdata") ||
    (MEMBER_TEST_SUPPORT as readonly string[]).includes(path);
}

/** A module of the product that loads test support. */
export interface BoundaryViolation {
  /** The product module, relative to the repository. */
  importer: string;
  /** The test-support module it imports, relative to the repository. */
  imported: string;
}

/** Every `.ts` module of the product members under `root` that is not test support. */
export async function productModules(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(root, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && path.endsWith(".ts") && !isTestSupport(path)) found.push(path);
    }
  };
  for (const member of PRODUCT_MEMBERS) {
    const exists = await Deno.stat(join(root, member)).then((s) => s.isDirectory, () => false);
    if (exists) await walk(member);
  }
  return found.sort();
}

interface DenoInfo {
  modules: {
    specifier: string;
    error?: string;
    dependencies?: {
      specifier: string;
      code?: { specifier?: string };
      type?: { specifier?: string };
    }[];
  }[];
}

/**
 * The product's imports of test support under `root` (a Deno workspace), from the graph
 * `deno info --json` reports for every product module at once.
 */
export async function testSupportImports(root: string): Promise<BoundaryViolation[]> {
  const modules = await productModules(root);
  if (modules.length === 0) throw new Error(`no product modules under ${root}`);
  const entry = modules.map((m) => `import ${JSON.stringify(pathToFileURL(join(root, m)).href)};`)
    .join("\n");
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `data:application/typescript,${encodeURIComponent(entry)}`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as DenoInfo;
  const local = (specifier: string | undefined) =>
    specifier?.startsWith("file:")
      ? relative(root, fileURLToPath(specifier)).split("\\").join("/")
      : undefined;
  const violations: BoundaryViolation[] = [];
  for (const module of graph.modules) {
    const importer = local(module.specifier);
    if (importer === undefined || isTestSupport(importer)) continue;
    for (const dependency of module.dependencies ?? []) {
      // By name even when it does not resolve (an export the member does not have).
      const named = /^@payments\/testing(\/|$)/.test(dependency.specifier);
      const imported = [dependency.code?.specifier, dependency.type?.specifier].map(local)
        .find((path) => path !== undefined && isTestSupport(path));
      if (imported !== undefined || named) {
        violations.push({ importer, imported: imported ?? dependency.specifier });
      }
    }
  }
  return violations;
}
