package payments.peer;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/** requests -> decide (with the store of decided ids) -> results. */
final class PeerTopology {
  /** The store of decided payment ids: RocksDB, logged to its changelog topic. */
  static final String DECIDED_STORE = "decided-payments";

  private PeerTopology() {}

  static Topology build(String requestsTopic, String resultsTopic, Rules rules) {
    StreamsBuilder builder = new StreamsBuilder();
    // Persistent and logged, Kafka Streams' defaults for a key-value store: the changelog
    // is written in the same transaction as the results and the consumed offsets.
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(DECIDED_STORE), Serdes.String(), Serdes.String()));
    builder.stream(requestsTopic, Consumed.with(Serdes.String(), Serdes.String()))
        .process(() -> new DecideProcessor(rules), DECIDED_STORE)
        .to(resultsTopic, Produced.with(Serdes.String(), Serdes.String()));
    return builder.build();
  }
}
