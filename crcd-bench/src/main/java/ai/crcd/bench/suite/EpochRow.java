package ai.crcd.bench.suite;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One epoch of a run as the suite records it.
 *
 * @param epoch the epoch, from 1
 * @param lr the learning rate used
 * @param losses the mean training loss terms by name (e.g. {@code ce}, {@code kd}, {@code total})
 * @param top1 test top-1 accuracy in percent
 * @param top5 test top-5 accuracy in percent
 * @param seconds wall time of the epoch
 */
public record EpochRow(
        @JsonProperty("epoch") int epoch,
        @JsonProperty("lr") double lr,
        @JsonProperty("losses") Map<String, Double> losses,
        @JsonProperty("top1") double top1,
        @JsonProperty("top5") double top5,
        @JsonProperty("seconds") double seconds) {

    /** Fills defaults. */
    public EpochRow {
        // insertion order kept (Map.copyOf's order changes from one JVM to the next)
        losses =
                losses == null
                        ? Map.of()
                        : Collections.unmodifiableMap(new LinkedHashMap<>(losses));
    }
}
