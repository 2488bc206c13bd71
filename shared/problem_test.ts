import assert from "node:assert/strict";
import { problem, PROBLEM_CONTENT_TYPE, problemResponse } from "./problem.ts";

Deno.test("a problem response is RFC 9457 JSON with its status and extra headers", async () => {
  const body = problem(503, "kafka-unavailable", "Kafka did not acknowledge", {
    correlation_id: "c-1",
  });
  const response = problemResponse(body, { "retry-after": "5" });
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  assert.equal(response.headers.get("retry-after"), "5");
  assert.deepEqual(await response.json(), {
    type: "urn:payments:problem:kafka-unavailable",
    title: "Service Unavailable",
    status: 503,
    detail: "Kafka did not acknowledge",
    correlation_id: "c-1",
  });
});
