package ai.crcd.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-operator self time of a Chrome trace as libtorch's profiler writes it (crcd's {@code step
 * --profile} through DJL's {@code JniUtils.startProfile}, and {@code peer_step.py --profile}).
 *
 * <p>Complete events ({@code "ph": "X"}) of one thread nest by time: an event's self time is its
 * duration minus the durations of the events directly inside it, so the self times of a thread add
 * up to the time covered by its outermost events. Names are libtorch's ({@code aten::mkldnn_
 * convolution}, {@code autograd::engine::evaluate_function: ...}).
 *
 * @param ops operators by self time, largest first
 * @param steps the steps the trace covers (divides every time)
 * @param coveredMicros time covered by outermost events, all threads, microseconds
 */
public record TraceSummary(List<Op> ops, int steps, double coveredMicros) {

    /**
     * One operator name.
     *
     * @param name libtorch's name
     * @param calls calls in the trace
     * @param selfMicros self time in the trace, microseconds
     */
    public record Op(String name, long calls, double selfMicros) {}

    /**
     * Reads a trace file.
     *
     * @param trace the Chrome trace (a JSON array of events, or an object with {@code traceEvents})
     * @param steps the training steps it covers
     * @return the summary
     * @throws IOException if the file cannot be read or is not JSON
     */
    public static TraceSummary read(Path trace, int steps) throws IOException {
        JsonNode root = new ObjectMapper().readTree(trace.toFile());
        return of(root.isArray() ? root : root.path("traceEvents"), steps);
    }

    /**
     * Summarises parsed events.
     *
     * @param events the trace's event array
     * @param steps the training steps it covers, at least 1
     * @return the summary
     */
    static TraceSummary of(JsonNode events, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        Map<String, List<double[]>> byThread = new HashMap<>(); // tid -> {ts, dur, name index}
        List<String> names = new ArrayList<>();
        Map<String, Integer> nameIndex = new HashMap<>();
        for (JsonNode e : events) {
            if (!"X".equals(e.path("ph").asText())) {
                continue;
            }
            String name = e.path("name").asText();
            int idx = nameIndex.computeIfAbsent(name, k -> names.size());
            if (idx == names.size()) {
                names.add(name);
            }
            byThread.computeIfAbsent(
                            e.path("pid").asText() + "/" + e.path("tid").asText(),
                            k -> new ArrayList<>())
                    .add(new double[] {e.path("ts").asDouble(), e.path("dur").asDouble(), idx});
        }
        double[] self = new double[names.size()];
        long[] calls = new long[names.size()];
        double covered = 0;
        for (List<double[]> list : byThread.values()) {
            // outer events first at equal start
            list.sort(
                    Comparator.<double[]>comparingDouble(a -> a[0])
                            .thenComparingDouble(a -> -a[1]));
            Deque<double[]> open = new ArrayDeque<>(); // {end, name index}
            for (double[] ev : list) {
                double end = ev[0] + ev[1];
                while (!open.isEmpty() && open.peek()[0] <= ev[0]) {
                    open.pop();
                }
                int idx = (int) ev[2];
                self[idx] += ev[1];
                calls[idx]++;
                if (open.isEmpty()) {
                    covered += ev[1];
                } else {
                    self[(int) open.peek()[1]] -= ev[1]; // the parent's time spent in this child
                }
                open.push(new double[] {end, idx});
            }
        }
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            ops.add(new Op(names.get(i), calls[i], self[i]));
        }
        ops.sort(Comparator.comparingDouble(Op::selfMicros).reversed());
        return new TraceSummary(List.copyOf(ops), steps, covered);
    }

    /**
     * A markdown table of the largest operators per step.
     *
     * @param top how many operators
     * @return the table, with the covered time per step above it
     */
    public String markdown(int top) {
        StringBuilder sb = new StringBuilder();
        sb.append(
                String.format(
                        Locale.ROOT,
                        "Operators cover %.1f ms per step (%d steps profiled).%n%n",
                        coveredMicros / 1000 / steps,
                        steps));
        sb.append("| operator | calls/step | self ms/step |\n|---|---:|---:|\n");
        for (Op op : ops.subList(0, Math.min(top, ops.size()))) {
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "| `%s` | %s | %.2f |%n",
                            op.name().replace("|", "\\|"),
                            formatCalls((double) op.calls() / steps),
                            op.selfMicros() / 1000 / steps));
        }
        return sb.toString();
    }

    private static String formatCalls(double c) {
        return c == Math.rint(c) ? String.valueOf((long) c) : String.format(Locale.ROOT, "%.1f", c);
    }
}
