package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.InitStage;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.kd.KdTerm;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * AB, "Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons" (Heo
 * et al., AAAI 2019), exact to RepDistiller ({@code distiller_zoo/AB.py}, {@code Connector} in
 * {@code models/util.py}, {@code helper/pretrain.py}): on the pre-activation stage outputs, with
 * the connectors {@code r_k} ({@link AbConnectors}) on the student side, stage k (of K, from 0)
 * contributes
 *
 * <pre>
 * ab_k = 2^(k-K+1) * 3 / (1000 B) * sum[ (r(s)+m)^2 * [r(s) &gt; -m][t &lt;= 0]
 *                                       + (r(s)-m)^2 * [r(s) &lt;= m][t &gt; 0] ]
 * </pre>
 *
 * with margin m = 1. Trained in an init stage ({@code init_epochs}, 30): the student's feature
 * modules and the connectors on {@code ab = sum_k ab_k}, student and connectors in training mode,
 * at the run's learning rate. Main stage: CE, the optional KD term and {@code beta * ab} (beta 0 by
 * default: RepDistiller's main stage has no AB term), the connectors frozen and in inference mode.
 */
public final class AbDistiller implements Distiller {

    private final double beta;
    private final double margin;
    private final int initEpochs;
    private final KdTerm kd;
    private AbConnectors connectors;
    private InitStage init;

    /**
     * Creates the distiller.
     *
     * @param beta the weight of the main-stage AB term, &gt;= 0 (0 = none, as RepDistiller)
     * @param margin m &gt; 0 (1.0)
     * @param initEpochs the init stage's epochs, &gt;= 0 (0 = no init stage)
     * @param kd the optional KD term
     */
    public AbDistiller(double beta, double margin, int initEpochs, KdTerm kd) {
        if (!(beta >= 0) || !(margin > 0) || initEpochs < 0) {
            throw new IllegalArgumentException(
                    "ab: beta >= 0, margin > 0, init_epochs >= 0; got "
                            + beta
                            + ", "
                            + margin
                            + ", "
                            + initEpochs);
        }
        this.beta = beta;
        this.margin = margin;
        this.initEpochs = initEpochs;
        this.kd = kd;
    }

    /**
     * Returns {@code ab}.
     *
     * @return the name
     */
    @Override
    public String name() {
        return "ab";
    }

    /**
     * Creates the connectors from the pre-activation stage shapes.
     *
     * @param manager owns the connectors' parameters
     * @param setup the output shapes of both networks, built with pre-activation outputs
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        List<Shape> s = stages(setup.studentShapes()); // preact shapes = stage shapes
        List<Shape> t = stages(setup.teacherShapes());
        connectors = new AbConnectors(s, t);
        connectors.initialize(manager, setup.dataType(), s.toArray(new Shape[0]));
        if (initEpochs > 0) {
            init =
                    InitStage.studentFeatureStage(initEpochs, "ab", b -> loss(b, true))
                            .addInitOnlyBlock(connectors)
                            .build();
        }
    }

    private static List<Shape> stages(List<Shape> outputShapes) {
        List<Shape> feats = FeatureMaps.shapes(outputShapes); // [stem, stage1..K, pooled]
        return feats.subList(1, feats.size() - 1);
    }

    /**
     * Returns the connectors.
     *
     * @return the block
     */
    @Override
    public Block auxiliaryBlock() {
        return connectors;
    }

    /**
     * Returns {@code true}: AB reads the pre-activation stage outputs.
     *
     * @return true
     */
    @Override
    public boolean usesPreActivations() {
        return true;
    }

    /**
     * Returns the init stage (RepDistiller's {@code init()} for {@code abound}).
     *
     * @return the stage, empty with {@code init_epochs: 0}
     */
    @Override
    public Optional<InitStage> initStage() {
        return Optional.ofNullable(init);
    }

    /**
     * Returns the main-stage terms: {@code kd} (alpha &gt; 0) and {@code ab} (beta &gt; 0).
     *
     * @param batch both networks' outputs with pre-activation stage outputs
     * @return the terms, possibly empty (AB alone: CE only in the main stage)
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        LossTerms terms = new LossTerms();
        kd.addTo(terms, batch);
        if (beta > 0) {
            terms.put("ab", Scalars.mul(loss(batch, false), beta));
        }
        return terms;
    }

    /**
     * The AB loss summed over the stages.
     *
     * @param batch the batch
     * @param connectorsTraining the connectors' mode (training in the init stage)
     * @return ()
     */
    NDArray loss(DistillBatch batch, boolean connectorsTraining) {
        List<NDArray> sPre = batch.student().preActStages();
        List<NDArray> tPre = batch.teacher().preActStages();
        if (sPre.isEmpty() || tPre.isEmpty()) {
            throw new IllegalStateException(
                    "ab needs the pre-activation stage outputs of both networks: build them with"
                            + " optPreActivation(true) (crcd-train does, as ab.usesPreActivations())");
        }
        NDList g =
                connectors.forward(
                        batch.parameterStore(), new NDList(sPre), connectorsTraining); // K maps
        int k = g.size();
        long b = g.get(0).getShape().get(0);
        NDArray total = null;
        for (int i = 0; i < k; i++) {
            double w = Math.pow(2, i - k + 1) * 3.0 / (1000.0 * b);
            NDArray term = Scalars.mul(criterion(g.get(i), tPre.get(i).stopGradient(), margin), w);
            total = total == null ? term : total.add(term);
        }
        return total; // ()
    }

    /**
     * RepDistiller's {@code criterion_alternative_l2}, summed over all elements.
     *
     * @param source (B, C, H, W) the connector's output
     * @param target (B, C, H, W) the teacher's pre-activation output
     * @param margin m
     * @return () the sum
     */
    static NDArray criterion(NDArray source, NDArray target, double margin) {
        DataType dt = source.getDataType();
        NDArray off = source.gt(-margin).logicalAnd(target.lte(0)).toType(dt, false);
        NDArray on = source.lte(margin).logicalAnd(target.gt(0)).toType(dt, false);
        NDArray a = source.add(margin).square().mul(off); // (B, C, H, W)
        NDArray c = source.sub(margin).square().mul(on);
        return a.add(c).sum(); // ()
    }

    /**
     * Factory for {@code ab}; options {@code beta} (0), {@code margin} (1.0), {@code init_epochs}
     * (30), {@code alpha} (0) and {@code kd_temperature} (4).
     */
    public static final class Factory implements DistillerFactory {

        /**
         * Returns the names.
         *
         * @return ab
         */
        @Override
        public List<String> names() {
            return new ArrayList<>(List.of("ab"));
        }

        /**
         * Creates the distiller.
         *
         * @param name ab
         * @param options beta, margin, init_epochs, alpha, kd_temperature
         * @return the distiller
         */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double beta = options.getDouble("beta", 0, 0);
            double margin = options.getPositiveDouble("margin", 1.0);
            int initEpochs = InitStage.epochsFromOptions(options);
            KdTerm kd = KdTerm.fromOptions(options, 0);
            options.checkNoUnknownKeys();
            return new AbDistiller(beta, margin, initEpochs, kd);
        }
    }
}
