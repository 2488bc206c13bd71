import assert from "node:assert/strict";
import { produceWithKcat } from "./kcat.ts";

Deno.test("produceWithKcat refuses an empty value beside a null one before running kcat", async () => {
  await assert.rejects(
    produceWithKcat("127.0.0.1:1", "never", [{ key: "a", value: null }, { key: "b", value: "" }]),
    /cannot write an empty value beside a null one/,
  );
});
