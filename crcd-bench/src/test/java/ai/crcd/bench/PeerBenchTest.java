package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** What the crcd-vs-PyTorch bench decides without running Python: BLAS names, bad options. */
class PeerBenchTest {

    @Test
    void namesTheBlasThePeerLoaded() {
        assertEquals(
                "OpenBLAS (libblas.so.3, libopenblasp-r0.3.21.so)",
                PeerBench.blasName(
                        "/o/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3,"
                                + " /o/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3,"
                                + " /o/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"));
        assertEquals(
                "reference BLAS (netlib) (libblas.so.3.11.0)",
                PeerBench.blasName("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"));
        assertEquals("unknown (none)", PeerBench.blasName("none"));
    }

    @Test
    void rejectsPairsThePeerCannotBuild() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PeerBench.builder().optPair("wrn_40_2", "resnet20"));
        assertEquals(true, e.getMessage().contains("'wrn_40_2'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PeerBench.builder().optRounds(1, 0));
    }
}
