package eddy.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Kafka Streams peer of benchmarks/peers/run.sh.
 *
 *   java -jar peer.jar JOB BROKERS IN OUT APP_ID GUARANTEE STATE_DIR
 *
 * JOB j1: filter amount > 50, derive amount_x100 = amount * 100.
 * JOB j2: tumbling 60 s event-time window per user (the record key), count,
 *         sum and mean of amount, final results only (suppress until the
 *         window closes, no grace).
 * GUARANTEE: at_least_once or exactly_once_v2. commit.interval.ms: 100 with
 * exactly_once_v2 (its default), else $PEERS_KS_COMMIT_MS (default 30000,
 * Kafka Streams' own). Everything else is Kafka Streams' defaults, with one
 * stream thread. Runs until SIGTERM.
 */
public final class Peer {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Event time from the record's "ts" field (ms), as the other systems do. */
    public static final class TsExtractor implements TimestampExtractor {
        @Override
        public long extract(ConsumerRecord<Object, Object> rec, long partitionTime) {
            try {
                return JSON.readTree((String) rec.value()).get("ts").asLong();
            } catch (Exception e) {
                return rec.timestamp();
            }
        }
    }

    /** count and sum of a window, 16 bytes. */
    static final class Agg {
        long n;
        double sum;
    }

    static final class AggSerde implements Serde<Agg> {
        @Override
        public Serializer<Agg> serializer() {
            return (topic, a) -> a == null ? null : ByteBuffer.allocate(16).putLong(a.n).putDouble(a.sum).array();
        }

        @Override
        public Deserializer<Agg> deserializer() {
            return (topic, b) -> {
                if (b == null) return null;
                ByteBuffer bb = ByteBuffer.wrap(b);
                Agg a = new Agg();
                a.n = bb.getLong();
                a.sum = bb.getDouble();
                return a;
            };
        }
    }

    static JsonNode parse(String v) {
        try {
            return JSON.readTree(v);
        } catch (Exception e) {
            return null;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: peer JOB BROKERS IN OUT APP_ID GUARANTEE STATE_DIR");
            System.exit(2);
        }
        String job = args[0], in = args[2], out = args[3];
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[4]);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[5]);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.STATE_DIR_CONFIG, args[6]);
        // exactly_once_v2: 100 ms, its default. at_least_once: PEERS_KS_COMMIT_MS
        // (run.sh: 1000); Kafka Streams' default of 30 s would hold J2's last
        // windows in the record cache until the next commit, so the wall time
        // would measure that timer rather than the processing.
        String commit = args[5].startsWith("exactly_once") ? "100" : System.getenv().getOrDefault("PEERS_KS_COMMIT_MS", "30000");
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(commit));
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        StreamsBuilder b = new StreamsBuilder();
        KStream<String, String> s = b.stream(in,
            Consumed.with(Serdes.String(), Serdes.String()).withTimestampExtractor(new TsExtractor()));
        if (job.equals("j1")) {
            s.mapValues(Peer::parse)
                .filter((k, v) -> v != null && v.path("amount").asDouble() > 50)
                .mapValues(v -> {
                    ObjectNode o = (ObjectNode) v;
                    o.put("amount_x100", o.get("amount").asDouble() * 100);
                    return o.toString();
                })
                .to(out, Produced.with(Serdes.String(), Serdes.String()));
        } else if (job.equals("j2")) {
            s.mapValues(v -> {
                    JsonNode n = parse(v);
                    return n == null ? null : n.path("amount").asDouble();
                })
                .filter((k, v) -> v != null)
                .groupByKey(Grouped.with(Serdes.String(), Serdes.Double()))
                .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(60)))
                .aggregate(Agg::new, (k, v, a) -> {
                    a.n++;
                    a.sum += v;
                    return a;
                }, Materialized.with(Serdes.String(), new AggSerde()))
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                .toStream()
                .map((wk, a) -> {
                    ObjectNode o = JSON.createObjectNode();
                    o.put("user", wk.key());
                    o.put("window_start", wk.window().start());
                    o.put("window_end", wk.window().end());
                    o.put("n", a.n);
                    o.put("total", a.sum);
                    o.put("avg", a.sum / a.n);
                    return KeyValue.pair(wk.key(), o.toString());
                })
                .to(out, Produced.with(Serdes.String(), Serdes.String()));
        } else {
            System.err.println("unknown job " + job);
            System.exit(2);
        }
        KafkaStreams ks = new KafkaStreams(b.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ks.close(Duration.ofSeconds(30));
            done.countDown();
        }));
        ks.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        ks.start();
        done.await();
    }
}
