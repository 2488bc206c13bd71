/**
 * Status reads in tests: a payment posted to a producer process and its status asked
 * back over HTTP, and the consumer group waited for until it looks as a test needs it
 * (both members owning tasks, a standby in place).
 *
 * @example
 * ```ts
 * const posted = await postPayment(producer.url, paymentRequest("P-1"));
 * const { status, body } = await getStatus(`${producer.url}${posted.location}`, { wait: 10 });
 * ```
 *
 * @module
 */
import type { Admin } from "kafkajs";
import { describeTaskGroup, type TaskGroupView } from "@payments/shared/task_group";
import type { TopicNames } from "@payments/shared/topics";
import { eventually } from "./wait.ts";

/** An HTTP answer: status, headers and the JSON body. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

const authorization = (key?: string): Record<string, string> =>
  key ? { authorization: `Bearer ${key}` } : {};

/** POSTs one payment to `<producer>/payments`; the answer and its `Location`. */
export async function postPayment(
  producerUrl: string,
  payment: unknown,
  options: { key?: string; path?: string } = {},
): Promise<JsonAnswer & { location: string | null }> {
  const response = await fetch(`${producerUrl}${options.path ?? "/payments"}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization(options.key) },
    body: JSON.stringify(payment),
  });
  const body = await response.json();
  return {
    status: response.status,
    headers: response.headers,
    body,
    location: response.headers.get("location"),
  };
}

/** GETs a status URL (`<producer>/payments/<id>`), with `?wait=` seconds when given. */
export async function getStatus(
  url: string,
  options: { wait?: number; key?: string } = {},
): Promise<JsonAnswer> {
  const query = options.wait === undefined ? "" : `?wait=${options.wait}`;
  const response = await fetch(`${url}${query}`, { headers: authorization(options.key) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Waits until the group as DescribeGroups shows it satisfies `ready`; returns that view. */
export async function groupReaching(
  admin: Admin,
  t: { groupId: string; topics: TopicNames },
  ready: (view: TaskGroupView) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<TaskGroupView> {
  let view: TaskGroupView | undefined;
  await eventually(
    async () => {
      view = await describeTaskGroup(admin, t.groupId, t.topics).catch(() => undefined);
      return view !== undefined && ready(view);
    },
    timeoutMs,
    what,
    { intervalMs: 250, context: () => `group: ${JSON.stringify(view)}` },
  );
  return view!;
}
