package payments.peer;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

/**
 * The Kafka Streams peer: runs until SIGTERM, then closes cleanly. Arguments are
 * key=value pairs: bootstrap, application-id, state-dir, requests, results, blocked
 * (comma-separated merchant ids), default-limit, limits (CUR:amount,...). Prints
 * "peer state RUNNING" and the like on stdout; exits 1 when the application fails.
 */
public final class StreamsPeer {
  private StreamsPeer() {}

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> options = parse(args);
    Properties config = new Properties();
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, required(options, "application-id"));
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, required(options, "bootstrap"));
    config.put(StreamsConfig.STATE_DIR_CONFIG, required(options, "state-dir"));
    config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    // A fresh application reads the pre-filled topic from its start, as the other loops do.
    config.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    KafkaStreams streams = new KafkaStreams(
        PeerTopology.build(required(options, "requests"), required(options, "results"), rules(options)),
        config);
    CountDownLatch done = new CountDownLatch(1);
    boolean[] failed = {false};
    streams.setStateListener((now, before) -> {
      System.out.println("peer state " + now);
      if (now == KafkaStreams.State.ERROR) {
        failed[0] = true;
        done.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(error -> {
      System.err.println("peer failed: " + error);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(20));
      done.countDown();
    }));
    streams.start();
    done.await();
    if (failed[0]) {
      streams.close(Duration.ofSeconds(5));
      Runtime.getRuntime().halt(1);
    }
  }

  private static Rules rules(Map<String, String> options) {
    Set<String> blocked = Arrays.stream(options.getOrDefault("blocked", "").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    Map<String, Double> limits = new HashMap<>();
    for (String pair : options.getOrDefault("limits", "").split(",")) {
      if (pair.isBlank()) continue;
      String[] parts = pair.split(":", 2);
      if (parts.length != 2) throw new IllegalArgumentException("limits takes CUR:amount pairs, got " + pair);
      limits.put(parts[0].trim(), Double.parseDouble(parts[1].trim()));
    }
    return new Rules(blocked, Double.parseDouble(required(options, "default-limit")), limits);
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int at = arg.indexOf('=');
      if (at < 1) throw new IllegalArgumentException("arguments are key=value, got " + arg);
      options.put(arg.substring(0, at), arg.substring(at + 1));
    }
    return options;
  }

  private static String required(Map<String, String> options, String key) {
    String value = options.get(key);
    if (value == null || value.isEmpty()) throw new IllegalArgumentException("missing argument " + key + "=...");
    return value;
  }
}
