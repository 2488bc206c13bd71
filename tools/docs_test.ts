/**
 * The docs stay true for a `deno task dev` user: they cite only files the repository
 * has, every Docker command has its dev equivalent beside it, and the README's sample
 * dev lines are in time order and in today's format.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function docs(): Promise<[string, string][]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  return await Promise.all(
    files.sort().map(async (file) =>
      [file, await Deno.readTextFile(`${ROOT}${file}`)] as [string, string]
    ),
  );
}

async function repositoryFiles(): Promise<Set<string>> {
  const { stdout } = await new Deno.Command("git", {
    args: ["ls-files"],
    cwd: ROOT,
    stdout: "piped",
  })
    .output();
  return new Set(new TextDecoder().decode(stdout).split("\n").filter(Boolean));
}

Deno.test("every Markdown file a document names is in the repository", async () => {
  const files = await repositoryFiles();
  const names = new Set([...files].map((file) => file.split("/").pop()!));
  for (const [doc, text] of await docs()) {
    for (const match of text.matchAll(/[\w./-]*\b[\w-]+\.md\b/g)) {
      const cited = match[0].replace(/^\.\//, "");
      const known = cited.includes("/") ? files.has(cited) : names.has(cited);
      assert.ok(known, `${doc} cites ${cited}, which the repository does not have`);
    }
  }
});

Deno.test("every docker compose command in docs/ has its deno task dev equivalent beside it", async () => {
  for (const [doc, text] of await docs()) {
    if (!doc.startsWith("docs/")) continue;
    const paragraphs = text.split(/\n\s*\n/);
    for (const paragraph of paragraphs) {
      if (!/docker compose (logs|ps|restart|up)/.test(paragraph)) continue;
      assert.match(paragraph, /deno task dev/, `${doc}: no dev equivalent beside:\n${paragraph}`);
    }
  }
});

Deno.test("the README's sample dev lines are in time order and in the services' pretty format", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const block = readme.match(/```\n(\[producer\][^`]*)```/)?.[1];
  assert.ok(block, "the README shows sample dev lines");
  const lines = block.trim().split("\n");
  let last = "";
  for (const line of lines) {
    const match =
      /^\[(producer|consumer)\] +(\d\d:\d\d:\d\d\.\d{3}) (INF|WRN|ERR|DBG) payments·(\w+)[·\w]*: /
        .exec(line);
    assert.ok(match, `not a dev line of today's format: ${line}`);
    assert.equal(match[4], match[1], `the ${match[1]}'s category is payments·${match[1]}`);
    assert.ok(match[2]! >= last, `out of time order: ${line}`);
    last = match[2]!;
  }
});
