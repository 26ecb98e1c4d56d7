package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.io.Csv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The crcd-vs-PyTorch table: quartiles, ratios, rates and the target lines from fixed times. */
class PeerTableTest {

    @TempDir Path tmp;

    @Test
    void timingQuartilesInterpolate() {
        PeerTable.Timing t = PeerTable.Timing.of(List.of(5.0, 1.0, 4.0, 2.0, 3.0));
        assertEquals(3.0, t.medianMs());
        assertEquals(2.0, t.p25Ms());
        assertEquals(4.0, t.p75Ms());
        assertEquals(5, t.steps());
        PeerTable.Timing even = PeerTable.Timing.of(List.of(1.0, 2.0, 3.0, 4.0));
        assertEquals(2.5, even.medianMs());
        assertEquals(1.75, even.p25Ms(), 1e-12); // 0.25 * 3 = 0.75 between 1 and 2
        assertEquals(3.25, even.p75Ms(), 1e-12);
        // 10 G multiply-adds in 250 ms = 40 G/s
        assertEquals(40.0, new PeerTable.Timing(250, 0, 0, 1).gmacPerSecond(10_000_000_000L));
        assertThrows(IllegalArgumentException.class, () -> PeerTable.Timing.of(List.of()));
    }

    @Test
    void csvAndMarkdownCarryRatiosAndRates() throws Exception {
        PeerTable table =
                new PeerTable(
                        "setup line",
                        List.of(
                                row("KD", "kd", 200, 250, 16_000_000_000L),
                                row("FRCD", "frcd", 300, 400, 20_000_000_000L),
                                row("GRCD", "grcd", 320, 410, 21_000_000_000L),
                                row("CRCD", "crcd", 500, 450, 25_000_000_000L),
                                row("other", "fitnet", 100, 100, -1)));
        table.write(tmp, "peer-cpu-b64");
        Csv csv = Csv.read(tmp.resolve("peer-cpu-b64.csv"));
        List<Map<String, String>> rec = csv.records();
        assertEquals(5, rec.size());
        Map<String, String> crcd = rec.get(3);
        assertEquals("CRCD", crcd.get("label"));
        assertEquals(500.0 / 450.0, Double.parseDouble(crcd.get("crcd_over_torch")), 1e-12);
        assertEquals(2.5, Double.parseDouble(crcd.get("crcd_ratio_to_kd")), 1e-12);
        assertEquals(450.0 / 250.0, Double.parseDouble(crcd.get("torch_ratio_to_kd")), 1e-12);
        assertEquals(50.0, Double.parseDouble(crcd.get("crcd_gmac_per_s")), 1e-9); // 25 G / 0.5 s
        assertEquals(25e9 / 0.45 / 1e9, Double.parseDouble(crcd.get("torch_gmac_per_s")), 1e-9);
        assertEquals("25000000000", crcd.get("macs_per_step"));
        assertEquals(Double.toString(500 * 0.9), crcd.get("crcd_p25_ms"));
        assertEquals("", rec.get(4).get("macs_per_step")); // unknown count: empty fields
        assertEquals("", rec.get(4).get("crcd_gmac_per_s"));

        String md = Files.readString(tmp.resolve("peer-cpu-b64.md"));
        assertTrue(md.startsWith("setup line\n"), md);
        assertTrue(
                md.contains(
                        "| CRCD | 25.00 | 500.0 (450.0–550.0) | 450.0 (405.0–495.0) | 1.11 "
                                + "| 2.50 | 1.80 | 50.0 | 55.6 |"),
                md);
        assertTrue(md.contains("| other | – |"), md);
        assertTrue(md.contains("for every method: **not met** (CRCD)"), md);
        // FRCD + GRCD - KD = 300 + 320 - 200 = 420 < 500
        assertTrue(md.contains("crcd 500.0 vs 420.0 ms (**not met**)"), md);
        assertTrue(md.contains("PyTorch 450.0 vs 560.0 ms"), md);
        assertTrue(md.contains("crcd 2.50 (**not met**), PyTorch 1.80; arithmetic bound"), md);
        assertTrue(md.contains("arithmetic bound (multiply-adds) 1.56"), md); // 25 / 16
    }

    @Test
    void allFasterMeetsTheTarget() {
        PeerTable t =
                new PeerTable(
                        "s",
                        List.of(row("KD", "kd", 100, 200, 1), row("CRCD", "crcd", 150, 300, 2)));
        assertTrue(t.markdown().contains("for every method: **met**"), t.markdown());
        assertTrue(t.markdown().contains("| KD |"), t.markdown());
    }

    private static PeerTable.Row row(
            String label, String method, double crcd, double torch, long macs) {
        return new PeerTable.Row(
                label,
                method,
                new PeerTable.Timing(crcd, crcd * 0.9, crcd * 1.1, 20),
                new PeerTable.Timing(torch, torch * 0.9, torch * 1.1, 20),
                macs);
    }
}
