package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceSummaryTest {

    private static String ev(String name, int tid, double ts, double dur) {
        return String.format(
                java.util.Locale.ROOT,
                "{\"name\": \"%s\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"tid\": %d,"
                        + " \"pid\": \"CPU Functions\"}",
                name,
                ts,
                dur,
                tid);
    }

    @Test
    void selfTimeIsDurationMinusDirectChildrenPerThread(@TempDir Path dir) throws Exception {
        // thread 1: conv [0, 100) holds mkldnn [10, 70) which holds empty [20, 25); relu [100, 130)
        // (starts where conv ends: a sibling, not a child); thread 2: conv [5, 45) alone;
        // an instant event ("i") is ignored
        String json =
                "{\"traceEvents\": ["
                        + String.join(
                                ",",
                                ev("aten::conv2d", 1, 0, 100),
                                ev("aten::empty", 1, 20, 5),
                                ev("aten::mkldnn_convolution", 1, 10, 60),
                                ev("aten::relu", 1, 100, 30),
                                ev("aten::conv2d", 2, 5, 40),
                                "{\"name\": \"marker\", \"ph\": \"i\", \"ts\": 3, \"tid\": 1}")
                        + "]}";
        Path f = dir.resolve("t.json");
        Files.writeString(f, json);
        TraceSummary s = TraceSummary.read(f, 2);
        Map<String, TraceSummary.Op> ops =
                s.ops().stream().collect(Collectors.toMap(TraceSummary.Op::name, o -> o));
        assertEquals(40 + 40, ops.get("aten::conv2d").selfMicros(), 1e-9); // 100 - 60, plus 40
        assertEquals(2, ops.get("aten::conv2d").calls());
        assertEquals(55, ops.get("aten::mkldnn_convolution").selfMicros(), 1e-9); // 60 - 5
        assertEquals(5, ops.get("aten::empty").selfMicros(), 1e-9);
        assertEquals(30, ops.get("aten::relu").selfMicros(), 1e-9);
        assertEquals(4, ops.size());
        assertEquals(100 + 30 + 40, s.coveredMicros(), 1e-9);
        // largest first; per step in the table: conv2d 80 us / 2 steps = 0.04 ms
        assertEquals("aten::conv2d", s.ops().get(0).name());
        String md = s.markdown(2);
        org.junit.jupiter.api.Assertions.assertTrue(
                md.contains("| `aten::conv2d` | 1 | 0.04 |"), md);
        org.junit.jupiter.api.Assertions.assertTrue(md.contains("cover 0.1 ms per step"), md);
        // the self times of a thread add up to its covered time
        double total = s.ops().stream().mapToDouble(TraceSummary.Op::selfMicros).sum();
        assertEquals(s.coveredMicros(), total, 1e-9);
    }

    @Test
    void readsATopLevelArrayAsLibtorchWritesIt(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t.json");
        Files.writeString(f, "[\n" + ev("aten::add", 1, 0, 7) + "\n]");
        TraceSummary s = TraceSummary.read(f, 1);
        assertEquals(7, s.ops().get(0).selfMicros(), 1e-9);
        new ObjectMapper().readTree(f.toFile()); // the fixture is JSON
    }
}
