/**
 * kafkajs, as the whole workspace imports it (the `kafkajs` specifier of deno.json):
 * its read_committed filter is replaced first (`read_committed.ts` says why), then
 * kafkajs itself is re-exported unchanged.
 *
 * @module
 */
import "./read_committed.ts";

export * from "kafkajs-npm";
