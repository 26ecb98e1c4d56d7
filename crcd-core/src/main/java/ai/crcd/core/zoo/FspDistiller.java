package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.InitStage;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.kd.KdTerm;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * FSP, "A Gift from Knowledge Distillation: Fast Optimization, Network Minimization and Transfer
 * Learning" (Yim et al., CVPR 2017), exact to RepDistiller ({@code distiller_zoo/FSP.py}, {@code
 * helper/pretrain.py}): for the features {@code g = [stem, stage1..K]} (RepDistiller's {@code
 * feats[:-1]}) of each network, the FSP matrix of consecutive maps {@code (bot, top) = (g_i,
 * g_{i+1})} (the larger one average-pooled to the smaller one's size) is
 *
 * <pre>
 * G_i = top · bot^T / (H W)      (B, C_top, C_bot)
 * fsp = sum_i mean((G_i^s - G_i^t)^2)
 * </pre>
 *
 * It needs equal channel counts in every feature of teacher and student (RepDistiller raises the
 * same). Trained in an init stage ({@code init_epochs}, 30): the student's feature modules on
 * {@code fsp}, in training mode, at the run's learning rate. Main stage: CE, the optional KD term,
 * and {@code beta * fsp} only with {@code beta > 0} (default 0: RepDistiller's main stage has no
 * FSP term; its script's {@code -b 50} multiplies a zero loss).
 */
public final class FspDistiller implements Distiller {

    private final double beta;
    private final int initEpochs;
    private final KdTerm kd;
    private InitStage init;

    /**
     * Creates the distiller.
     *
     * @param beta the weight of the main-stage FSP term, &gt;= 0 (0 = none, as RepDistiller)
     * @param initEpochs the init stage's epochs, &gt;= 0 (0 = no init stage)
     * @param kd the optional KD term
     */
    public FspDistiller(double beta, int initEpochs, KdTerm kd) {
        if (!(beta >= 0) || initEpochs < 0) {
            throw new IllegalArgumentException(
                    "fsp: beta >= 0 and init_epochs >= 0, got " + beta + ", " + initEpochs);
        }
        this.beta = beta;
        this.initEpochs = initEpochs;
        this.kd = kd;
    }

    /**
     * Returns {@code fsp}.
     *
     * @return the name
     */
    @Override
    public String name() {
        return "fsp";
    }

    /**
     * Checks that teacher and student features have equal channels.
     *
     * @param manager unused (no parameters)
     * @param setup the output shapes of both networks
     * @throws IllegalArgumentException naming the first feature whose channels differ
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        List<Shape> s = features(setup.studentShapes(), "student");
        List<Shape> t = features(setup.teacherShapes(), "teacher");
        if (s.size() != t.size()) {
            throw new IllegalArgumentException(
                    "fsp: the student has "
                            + s.size()
                            + " features [stem, stages], the teacher "
                            + t.size()
                            + "; FSP needs the same number");
        }
        for (int i = 0; i < s.size(); i++) {
            if (s.get(i).get(1) != t.get(i).get(1)) {
                throw new IllegalArgumentException(
                        "fsp: "
                                + (i == 0 ? "stem" : "stage" + i)
                                + " has "
                                + s.get(i).get(1)
                                + " channels in the student and "
                                + t.get(i).get(1)
                                + " in the teacher; FSP needs equal channels in every feature"
                                + " (RepDistiller: num of channels not equal)");
            }
        }
        if (initEpochs > 0) {
            init = InitStage.studentFeatureStage(initEpochs, "fsp", FspDistiller::loss).build();
        }
    }

    private static List<Shape> features(List<Shape> layout, String who) {
        List<Shape> feats = FeatureMaps.shapes(layout); // [stem, stage1..K, pooled]
        return feats.subList(0, feats.size() - 1);
    }

    /**
     * Returns the init stage (RepDistiller's {@code init()} for {@code fsp}).
     *
     * @return the stage, empty with {@code init_epochs: 0}
     */
    @Override
    public Optional<InitStage> initStage() {
        return Optional.ofNullable(init);
    }

    /**
     * Returns the main-stage terms: {@code kd} (alpha &gt; 0) and {@code fsp} (beta &gt; 0).
     *
     * @param batch both networks' outputs
     * @return the terms, possibly empty
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        LossTerms terms = new LossTerms();
        kd.addTo(terms, batch);
        if (beta > 0) {
            terms.put("fsp", Scalars.mul(loss(batch), beta));
        }
        return terms;
    }

    /**
     * The FSP loss of a batch.
     *
     * @param batch the batch
     * @return () the sum over consecutive pairs of the mean squared difference
     */
    static NDArray loss(DistillBatch batch) {
        List<NDArray> gs = matrices(features(batch.student()));
        List<NDArray> gt = matrices(features(batch.teacher()));
        NDArray total = null;
        for (int i = 0; i < gs.size(); i++) {
            NDArray d = gs.get(i).sub(gt.get(i).stopGradient()).square().mean(); // ()
            total = total == null ? d : total.add(d);
        }
        return total;
    }

    private static List<NDArray> features(FeatureOutput out) {
        List<NDArray> f = new ArrayList<>();
        if (out.stem() != null) {
            f.add(out.stem());
        }
        f.addAll(out.stages());
        return f;
    }

    /**
     * RepDistiller's {@code compute_fsp}: one matrix per consecutive pair.
     *
     * @param g the maps, each (B, Ci, Hi, Wi)
     * @return the matrices, each (B, C_{i+1}, C_i)
     */
    static List<NDArray> matrices(List<NDArray> g) {
        List<NDArray> out = new ArrayList<>();
        for (int i = 0; i + 1 < g.size(); i++) {
            NDArray bot = g.get(i);
            NDArray top = g.get(i + 1);
            NDArray[] same = AdaptiveAvgPool.matchHeights(bot, top); // RepDistiller's rule
            bot = same[0];
            top = same[1];
            long b = bot.getShape().get(0);
            long hw = bot.getShape().get(2) * bot.getShape().get(3);
            NDArray bf = bot.reshape(b, bot.getShape().get(1), hw); // (B, Cb, HW)
            NDArray tf = top.reshape(b, top.getShape().get(1), hw); // (B, Ct, HW)
            NDArray m = tf.matMul(bf.transpose(0, 2, 1)); // (B, Ct, Cb)
            out.add(Scalars.div(m, hw));
        }
        return out;
    }

    /**
     * Factory for {@code fsp}; options {@code beta} (0), {@code init_epochs} (30), {@code alpha}
     * (0) and {@code kd_temperature} (4).
     */
    public static final class Factory implements DistillerFactory {

        /**
         * Returns the names.
         *
         * @return fsp
         */
        @Override
        public List<String> names() {
            return new ArrayList<>(List.of("fsp"));
        }

        /**
         * Creates the distiller.
         *
         * @param name fsp
         * @param options beta, init_epochs, alpha, kd_temperature
         * @return the distiller
         */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double beta = options.getDouble("beta", 0, 0);
            int initEpochs = InitStage.epochsFromOptions(options);
            KdTerm kd = KdTerm.fromOptions(options, 0);
            options.checkNoUnknownKeys();
            return new FspDistiller(beta, initEpochs, kd);
        }
    }
}
