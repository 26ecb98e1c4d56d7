package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.InitStage;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.crcd.FeatureElement;
import ai.crcd.core.kd.KdTerm;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * FT, "Paraphrasing Complex Network: Network Compression via Factor Transfer" (Kim et al., NeurIPS
 * 2018), exact to RepDistiller ({@code distiller_zoo/FT.py}, {@code Paraphraser}/{@code Translator}
 * in {@code models/util.py}, {@code helper/pretrain.py}, {@code train_student.py} branch {@code
 * factor}), on the last stage of each network (RepDistiller's {@code feats[-2]}):
 *
 * <ul>
 *   <li>init stage ({@code init_epochs}, 30): the {@link Paraphraser} alone learns to reconstruct
 *       the teacher's last stage, {@code paraphraser = mean((rec(f_t) - f_t)^2)}, the student in
 *       inference mode and untouched, learning rate {@code init_lr} (0.01: RepDistiller's value for
 *       ResNet and WRN students; it uses the run's rate for the others). With loud teacher features
 *       this rate diverges in RepDistiller's PyTorch code as it does here (the paraphraser has no
 *       normalisation): lower {@code init_lr} then (docs/zoo/ft.md);
 *   <li>main stage: {@code ft = beta * mean |F(T(f_s)) - F(P_enc(f_t))|} with {@code F(x) =
 *       normalize(mean_c(x^2) as (B, H W))} (l2 over each row, floor 1e-12), the larger factor
 *       average-pooled to the smaller's size; the translator trains, the paraphraser is frozen (no
 *       gradient into it).
 * </ul>
 */
public final class FtDistiller implements Distiller {

    /** RepDistiller's factor rate k. */
    public static final double RATE = 0.5;

    private final double beta;
    private final int initEpochs;
    private final double initLr;
    private final KdTerm kd;
    private FtBlock block;
    private InitStage init;

    /**
     * Creates the distiller.
     *
     * @param beta the weight of the factor loss, &gt;= 0 (200)
     * @param initEpochs the init stage's epochs, &gt;= 0 (0 = no paraphraser training)
     * @param initLr the init stage's learning rate, &gt; 0 (0.01)
     * @param kd the optional KD term
     */
    public FtDistiller(double beta, int initEpochs, double initLr, KdTerm kd) {
        if (!(beta >= 0) || initEpochs < 0 || !(initLr > 0)) {
            throw new IllegalArgumentException(
                    "ft: beta >= 0, init_epochs >= 0, init_lr > 0; got "
                            + beta
                            + ", "
                            + initEpochs
                            + ", "
                            + initLr);
        }
        this.beta = beta;
        this.initEpochs = initEpochs;
        this.initLr = initLr;
        this.kd = kd;
    }

    /**
     * Returns {@code ft}.
     *
     * @return the name
     */
    @Override
    public String name() {
        return "ft";
    }

    /**
     * Creates the paraphraser and the translator for the last stages' shapes.
     *
     * @param manager owns the parameters
     * @param setup the output shapes of both networks
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        List<Shape> s = FeatureMaps.shapes(setup.studentShapes()); // [stem, stages, pooled]
        List<Shape> t = FeatureMaps.shapes(setup.teacherShapes());
        Shape sLast = s.get(s.size() - 2); // feats[-2]
        Shape tLast = t.get(t.size() - 2);
        block = new FtBlock(sLast.get(1), tLast.get(1), RATE);
        block.initialize(manager, setup.dataType(), sLast, tLast);
        if (initEpochs > 0) {
            init =
                    InitStage.builder()
                            .setEpochs(initEpochs)
                            .setObjective(
                                    b -> new LossTerms().put("paraphraser", reconstruction(b)))
                            .addInitOnlyBlock(block.paraphraser())
                            .optStudentTraining(false)
                            .optLearningRate(initLr)
                            .build();
        }
    }

    /**
     * Returns the paraphraser and the translator.
     *
     * @return the block
     */
    @Override
    public Block auxiliaryBlock() {
        return block;
    }

    /**
     * Returns the init stage: the paraphraser's reconstruction training.
     *
     * @return the stage, empty with {@code init_epochs: 0}
     */
    @Override
    public Optional<InitStage> initStage() {
        return Optional.ofNullable(init);
    }

    /**
     * The paraphraser's reconstruction loss ({@code nn.MSELoss}).
     *
     * @param batch the batch (teacher last stage)
     * @return () mean squared error
     */
    NDArray reconstruction(DistillBatch batch) {
        NDArray ft = last(batch.teacher().stages()).stopGradient(); // (B, C, H, W)
        NDList out = block.paraphraser().forward(batch.parameterStore(), new NDList(ft), true);
        return out.get(1).sub(ft).square().mean(); // ()
    }

    /**
     * Returns the main-stage terms: {@code kd} (alpha &gt; 0) and {@code ft}.
     *
     * @param batch both networks' outputs
     * @return the terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        LossTerms terms = new LossTerms();
        kd.addTo(terms, batch);
        NDArray fs = last(batch.student().stages()); // (B, Cs, H, W)
        NDArray ftIn = last(batch.teacher().stages()).stopGradient(); // (B, Ct, H', W')
        NDArray factorS =
                block.translator()
                        .forward(batch.parameterStore(), new NDList(fs), batch.training())
                        .singletonOrThrow(); // (B, C', H, W)
        NDArray factorT =
                block.paraphraser()
                        .factor(batch.parameterStore(), ftIn, false)
                        .stopGradient(); // (B, C', H', W')
        terms.put("ft", Scalars.mul(factorLoss(factorS, factorT), beta));
        return terms;
    }

    private static NDArray last(List<NDArray> stages) {
        return stages.get(stages.size() - 1);
    }

    /**
     * RepDistiller's {@code FactorTransfer.factor_loss} with p1 = 2, p2 = 1.
     *
     * @param fs (B, C', H, W) the student's factor
     * @param ft (B, C', H', W') the teacher's factor
     * @return () {@code mean |F(fs) - F(ft)|}
     */
    static NDArray factorLoss(NDArray fs, NDArray ft) {
        NDArray[] same = AdaptiveAvgPool.matchHeights(fs, ft); // RepDistiller's rule
        return factor(same[0]).sub(factor(same[1])).abs().mean(); // ()
    }

    /**
     * {@code F.normalize(f.pow(2).mean(1).view(B, -1))}.
     *
     * @param f (B, C, H, W)
     * @return (B, H W) unit rows
     */
    static NDArray factor(NDArray f) {
        NDArray m = f.square().mean(new int[] {1}); // (B, H, W)
        return FeatureElement.l2Normalize(m.reshape(f.getShape().get(0), -1)); // (B, H W)
    }

    /**
     * Factory for {@code ft}; options {@code beta} (200), {@code init_epochs} (30), {@code init_lr}
     * (0.01), {@code alpha} (0) and {@code kd_temperature} (4).
     */
    public static final class Factory implements DistillerFactory {

        /**
         * Returns the names.
         *
         * @return ft
         */
        @Override
        public List<String> names() {
            return new ArrayList<>(List.of("ft"));
        }

        /**
         * Creates the distiller.
         *
         * @param name ft
         * @param options beta, init_epochs, init_lr, alpha, kd_temperature
         * @return the distiller
         */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double beta = options.getDouble("beta", 200, 0);
            int initEpochs = InitStage.epochsFromOptions(options);
            double initLr = options.getPositiveDouble("init_lr", 0.01);
            KdTerm kd = KdTerm.fromOptions(options, 0);
            options.checkNoUnknownKeys();
            return new FtDistiller(beta, initEpochs, initLr, kd);
        }
    }
}
