/**
 * The follower never holds a partition's preparation back: owning a partition while the
 * follower's consumer is between a crash and kafkajs' restart (when `pause` throws) still
 * succeeds, and the join that restarts it pauses the owned partition before any fetch.
 */
import assert from "node:assert/strict";
import type { Admin, Consumer } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import { createVelocityFollower } from "./velocity_follower.ts";
import { VelocityTracker } from "./velocity.ts";

/** A kafkajs consumer that is not running: pause and seek throw as kafkajs' do then. */
function stoppedConsumer() {
  const handlers = new Map<string, (event: { payload: unknown }) => void>();
  const paused: number[][] = [];
  let running = false;
  const notRunning = () => {
    throw new Error("Consumer group was not initialized, consumer#run must be called first");
  };
  const consumer = {
    events: { GROUP_JOIN: "group_join", END_BATCH_PROCESS: "end_batch", CRASH: "crash" },
    on: (event: string, handler: (event: { payload: unknown }) => void) => {
      handlers.set(event, handler);
      return () => {};
    },
    pause: (topics: { partitions: number[] }[]) => {
      if (!running) notRunning();
      paused.push(topics.flatMap((t) => t.partitions));
    },
    seek: () => {
      if (!running) notRunning();
    },
  } as unknown as Consumer;
  return {
    consumer,
    paused,
    /** kafkajs restarts the consumer: it joins its group again and gets these partitions. */
    rejoin(partitions: number[]) {
      running = true;
      handlers.get("group_join")!({
        payload: { memberAssignment: { payment_decisions: partitions } },
      });
    },
    /** The event handlers the follower registered. */
    handlers,
  };
}

Deno.test("owning a partition while the follower's consumer restarts succeeds, and the restart's join pauses it", async () => {
  const fake = stoppedConsumer();
  const follower = createVelocityFollower({
    consumer: fake.consumer,
    admin: {} as Admin,
    topic: "payment_decisions",
    velocity: new VelocityTracker(),
    logger: getLogger(["test"]),
  });
  // start() fails at once here (no admin), after registering the event handlers.
  await assert.rejects(() => follower.start());
  assert.ok(fake.handlers.has("group_join"), "start() listens before anything else");

  assert.doesNotThrow(() => follower.own([4]));
  assert.deepEqual(fake.paused, []);
  fake.rejoin([3, 4, 5]);
  assert.deepEqual(fake.paused, [[4]], "the owned partition is paused by the join");
});
