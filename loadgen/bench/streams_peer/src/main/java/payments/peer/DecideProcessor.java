package payments.peer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Decides one payment: looks its id up in the store of decided ids, applies the rules,
 * remembers the decision (the store's changelog gets it in the same transaction as the
 * result) and forwards a result with the fields of the consumer's PaymentResult.
 */
final class DecideProcessor implements Processor<String, String, String, String> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Rules rules;
  private ProcessorContext<String, String> context;
  private KeyValueStore<String, String> decided;

  DecideProcessor(Rules rules) {
    this.rules = rules;
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.decided = context.getStateStore(PeerTopology.DECIDED_STORE);
  }

  @Override
  public void process(Record<String, String> record) {
    // No schema validation and no dead-letter topic here: a record that is not JSON
    // fails the application (Kafka Streams' default), which the bench reports.
    JsonNode payment = parse(record.value());
    String paymentId = payment.path("payment_id").asText();
    Rules.Decision decision = rules.decide(
        decided.get(paymentId) != null,
        payment.path("merchant_id").asText(),
        payment.path("amount").asDouble(),
        payment.path("currency").asText());
    if (decision != Rules.Decision.DUPLICATE) decided.put(paymentId, decision.outcome());
    context.forward(record.withValue(result(payment, decision)));
  }

  private static JsonNode parse(String value) {
    try {
      return JSON.readTree(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("payment record is not JSON: " + e.getMessage(), e);
    }
  }

  private static String result(JsonNode payment, Rules.Decision decision) {
    ObjectNode result = JSON.createObjectNode();
    result.set("payment_id", payment.path("payment_id"));
    result.put("outcome", decision.outcome());
    result.put("reason", decision.reason());
    // Copied as parsed, so the amount keeps the digits the producer wrote.
    result.set("amount", payment.path("amount"));
    result.set("currency", payment.path("currency"));
    result.set("merchant_id", payment.path("merchant_id"));
    result.set("customer_id", payment.path("customer_id"));
    result.set("correlation_id", payment.path("correlation_id"));
    result.set("created_at", payment.path("created_at"));
    result.put("processed_at", Instant.now().toString());
    try {
      return JSON.writeValueAsString(result);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a result as JSON", e);
    }
  }
}
