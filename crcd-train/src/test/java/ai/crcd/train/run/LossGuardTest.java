package ai.crcd.train.run;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.TrainingException;
import ai.crcd.train.config.RunConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The guard's rules on hand-made loss rows, with thresholds computed here independently. */
class LossGuardTest {

    private static final List<String> TERMS = List.of("ce", "kd");

    private static RunConfig.Guard cfg(double skipLimit, double factor, int refSteps, double max) {
        RunConfig.Guard g = new RunConfig.Guard();
        g.nanSkipLimit = skipLimit;
        g.divergenceFactor = factor;
        g.referenceSteps = refSteps;
        g.maxLoss = max;
        return g;
    }

    private static EpochMetrics epoch(int n, double loss) {
        return new EpochMetrics(n, 0.1, Map.of("ce", loss), loss, 50, 90, 1);
    }

    @Test
    void referenceIsTheMeanOfTheFirstStepsThenTheFirstEpoch() {
        LossGuard g = new LossGuard(cfg(0.1, 10, 3, 0), false);
        g.beginEpoch(0, 100, List.of());
        g.step(1, TERMS, new float[] {1f, 1f}); // totals 2, 4, 6: reference 4, limit 40
        g.step(2, TERMS, new float[] {3f, 1f});
        g.step(3, TERMS, new float[] {5f, 1f});
        g.step(4, TERMS, new float[] {39f, 0.5f}); // 39.5 <= 40
        TrainingException e =
                assertThrows(
                        TrainingException.class, () -> g.step(5, TERMS, new float[] {2f, 38.5f}));
        assertEquals(
                "loss diverged at epoch 1 step 5: total 40.50 (largest term 'kd' = 38.50) > 10.00 x"
                        + " 4.000, guard.divergence_factor times the mean loss of the first 3 steps;"
                        + " no checkpoint was written (the first epoch did not complete). Lower"
                        + " optim.lr or check the method's options (e.g. a temperature), or raise"
                        + " guard.divergence_factor (0 = off)",
                e.getMessage());

        // later epochs (also after a resume): the first epoch's mean, whatever the early steps were
        LossGuard resumed = new LossGuard(cfg(0.1, 10, 3, 0), false);
        resumed.beginEpoch(2, 100, List.of(epoch(1, 3.0), epoch(2, 0.5)));
        resumed.step(1, TERMS, new float[] {29.9f, 0f}); // limit 10 x 3 = 30
        TrainingException r =
                assertThrows(
                        TrainingException.class,
                        () -> resumed.step(2, TERMS, new float[] {30.2f, 0f}));
        assertTrue(
                r.getMessage()
                        .contains(
                                "> 10.00 x 3.000, guard.divergence_factor times the first"
                                        + " epoch's mean loss; the last good checkpoint (epoch 2) was kept"),
                r.getMessage());
        // a negative total diverges as well
        assertThrows(TrainingException.class, () -> resumed.step(3, TERMS, new float[] {-31f, 0f}));
    }

    @Test
    void smallReferenceCountsAsOne() {
        LossGuard g = new LossGuard(cfg(0.1, 100, 1, 0), false);
        g.beginEpoch(1, 10, List.of(epoch(1, 0.01)));
        g.step(1, TERMS, new float[] {99f, 0.9f}); // limit 100 x max(0.01, 1) = 100
        assertThrows(TrainingException.class, () -> g.step(2, TERMS, new float[] {100f, 0.5f}));
    }

    @Test
    void maxLossTripsFromTheFirstStepAndZeroTurnsChecksOff() {
        LossGuard g = new LossGuard(cfg(0.1, 100, 20, 1e6), false);
        g.beginEpoch(0, 10, List.of());
        TrainingException e =
                assertThrows(
                        TrainingException.class, () -> g.step(1, TERMS, new float[] {2f, 9e18f}));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "loss diverged at epoch 1 step 1: total 9.000e+18"
                                        + " (largest term 'kd' = 9.000e+18) > guard.max_loss = 1.000e+06;"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("raise guard.max_loss (0 = off)"), e.getMessage());

        LossGuard off = new LossGuard(cfg(0.1, 0, 1, 0), false);
        off.beginEpoch(1, 10, List.of(epoch(1, 1.0)));
        assertDoesNotThrow(() -> off.step(1, TERMS, new float[] {3e38f, 0f}));
    }

    @Test
    void nonFiniteTermStopsUnderStopPolicy() {
        LossGuard g = new LossGuard(cfg(0.1, 100, 20, 1e6), false);
        g.beginEpoch(3, 10, List.of(epoch(1, 2)));
        TrainingException e =
                assertThrows(
                        TrainingException.class,
                        () -> g.step(7, TERMS, new float[] {1f, Float.NaN}));
        assertEquals(
                "non-finite loss at epoch 4 step 7: term 'kd' = NaN; the last good checkpoint"
                        + " (epoch 3) was kept. Lower optim.lr or set nan_policy: skip",
                e.getMessage());
    }

    @Test
    void skipLimitIsAFractionOfTheEpochsSteps() {
        LossGuard g = new LossGuard(cfg(0.25, 100, 20, 1e6), true);
        g.beginEpoch(1, 8, List.of(epoch(1, 2))); // 0.25 x 8 = 2 skips allowed
        g.skipped(3);
        g.step(4, TERMS, new float[] {1f, 1f});
        g.skipped(5);
        TrainingException e = assertThrows(TrainingException.class, () -> g.skipped(6));
        assertEquals(
                "epoch 2 skipped 3 of its first 6 steps (non-finite loss, nan_policy: skip), more"
                        + " than guard.nan_skip_limit = 0.25 of its 8 steps; the last good"
                        + " checkpoint (epoch 1) was kept. Lower optim.lr, or raise"
                        + " guard.nan_skip_limit",
                e.getMessage());

        // counts restart each epoch
        g.beginEpoch(2, 8, List.of(epoch(1, 2), epoch(2, 2)));
        g.skipped(1);
        g.skipped(2);
        g.step(3, TERMS, new float[] {1f, 1f});
        assertDoesNotThrow(g::endEpoch);

        // limit 0: any skip stops
        LossGuard strict = new LossGuard(cfg(0, 100, 20, 1e6), true);
        strict.beginEpoch(0, 100, List.of());
        assertThrows(TrainingException.class, () -> strict.skipped(1));
    }

    @Test
    void epochWithoutAnAppliedStepStops() {
        LossGuard g = new LossGuard(cfg(0.1, 100, 20, 1e6), true);
        g.beginEpoch(0, 0, List.of());
        TrainingException e = assertThrows(TrainingException.class, g::endEpoch);
        assertEquals(
                "epoch 1 applied none of its 0 steps (all skipped: non-finite loss); no checkpoint"
                        + " was written (the first epoch did not complete)",
                e.getMessage());
    }
}
