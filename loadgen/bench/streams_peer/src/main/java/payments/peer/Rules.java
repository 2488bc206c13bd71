package payments.peer;

import java.util.Map;
import java.util.Set;

/**
 * The consumer's rules that translate to a stream processor without shared state across
 * partitions: duplicate, blocked merchant, amount limit (per currency, else a default),
 * applied in the consumer's order; the first that matches decides. The velocity rule
 * does not translate (it counts a customer's payments on every partition; see
 * docs/benchmarks.md).
 */
record Rules(Set<String> blockedMerchants, double defaultAmountLimit, Map<String, Double> amountLimits) {

  /** An outcome and its reason, spelled as the consumer spells them (consumer/processor.ts). */
  record Decision(String outcome, String reason) {
    static final Decision DUPLICATE = new Decision("DUPLICATE", "duplicate_payment_id");
    static final Decision BLOCKED = new Decision("DECLINED", "merchant_blocked");
    static final Decision OVER_LIMIT = new Decision("DECLINED", "amount_over_limit");
    static final Decision APPROVED = new Decision("APPROVED", null);
  }

  Decision decide(boolean seen, String merchantId, double amount, String currency) {
    if (seen) return Decision.DUPLICATE;
    if (blockedMerchants.contains(merchantId)) return Decision.BLOCKED;
    if (amount > amountLimits.getOrDefault(currency, defaultAmountLimit)) return Decision.OVER_LIMIT;
    return Decision.APPROVED;
  }
}
