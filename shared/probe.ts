/**
 * What marks a payment of the producer's end-to-end probe (`producer/probe/`): a reserved
 * payment id prefix and merchant. Probe payments travel the whole pipeline like any
 * other, so every service recognises them by these marks to keep them out of the
 * business metrics and the SLO ratios; the producer refuses both marks from anyone but
 * its own probe, so no client payment can hide among them.
 *
 * @module
 */

/** Every probe payment id starts with this (then a UUID): `pipeline-probe:4f0c...`. */
export const PROBE_ID_PREFIX = "pipeline-probe:";

/** The merchant of every probe payment (no client may use it). */
export const PROBE_MERCHANT_ID = "pipeline-probe";

/**
 * Whether `paymentId` is a probe payment's.
 *
 * @example
 * ```ts
 * isProbePaymentId("pipeline-probe:4f0c6b1e-0f4e-4a57-8d0e-0b7f1f0c2a11"); // true
 * isProbePaymentId("TEST-001"); // false
 * ```
 */
export function isProbePaymentId(paymentId: string): boolean {
  return paymentId.startsWith(PROBE_ID_PREFIX);
}
