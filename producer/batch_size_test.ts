import assert from "node:assert/strict";
import { batchSizeRange } from "./batch_size.ts";

Deno.test("batch size ranges are the lab's five, split at 1, 10, 50 and 100", () => {
  assert.deepEqual([1, 2, 10, 11, 50, 51, 100, 101, 500].map(batchSizeRange), [
    "single",
    "small",
    "small",
    "medium",
    "medium",
    "large",
    "large",
    "xlarge",
    "xlarge",
  ]);
});
