import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

Deno.test("the Dockerfile copies every workspace member's deno.json before deno install", async () => {
  const workspace: string[] = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)))
    .workspace;
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", root));
  const beforeInstall = dockerfile.slice(0, dockerfile.indexOf("RUN deno install"));
  const missing = workspace
    .map((member) => member.replace(/^\.\//, ""))
    .filter((member) => !beforeInstall.includes(`COPY --chown=deno:deno ${member}/deno.json`));
  assert.deepEqual(missing, [], "members whose deno.json the image does not copy");
});
