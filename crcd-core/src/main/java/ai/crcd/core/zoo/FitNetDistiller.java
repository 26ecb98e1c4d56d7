package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.kd.KdTerm;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.List;

/**
 * FitNets hints (Romero et al., ICLR 2015) as RepDistiller runs them ({@code --distill hint}):
 * {@code fitnet = beta * mean((ConvReg(s_feats[hint_layer]) - t_feats[hint_layer])^2)}, the MSE
 * over all elements ({@code distiller_zoo/FitNet.py HintLoss}, {@code nn.MSELoss()}), with {@link
 * ConvReg} trained by the student's optimiser. {@code hint_layer} indexes RepDistiller's {@code
 * feats = [stem, stage1..K, pooled]} ({@link FeatureMaps}); 2 = stage 2 by default.
 *
 * <p>One stage, as RepDistiller's {@code train_student.py}: its stage-1 {@code init(...)} runs only
 * for {@code abound}, {@code factor} and {@code fsp}, never for {@code hint}. Optional KD term
 * through {@link KdTerm} ({@code alpha}, {@code kd_temperature}).
 */
public final class FitNetDistiller implements Distiller {

    /** The method's name and its loss term's name. */
    public static final String NAME = "fitnet";

    private final double beta;
    private final int hintLayer;
    private final KdTerm kd;
    private final String optionsPath;
    private ConvReg regressor;

    private FitNetDistiller(Builder b) {
        this.beta = b.beta;
        this.hintLayer = b.hintLayer;
        this.kd = b.kd;
        this.optionsPath = b.optionsPath;
    }

    /**
     * Returns a builder with RepDistiller's defaults (beta 100, hint_layer 2, no KD term).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return NAME;
    }

    /**
     * Builds the regressor from the student's and teacher's {@code feats[hint_layer]} shapes.
     *
     * @param manager owns the regressor's parameters
     * @param setup needs {@link DistillSetup#teacherShapes()} and {@link
     *     DistillSetup#studentShapes()}
     * @throws IllegalArgumentException naming {@code hint_layer} when it is out of range for the
     *     networks or the two maps cannot be regressed one onto the other
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        Shape[] pair = hintShapes(setup);
        regressor = new ConvReg(pair[0], pair[1], true);
        regressor.initialize(
                manager,
                setup.dataType(),
                new Shape(1, pair[0].get(1), pair[0].get(2), pair[0].get(3)));
    }

    /** The (student, teacher) shapes of feats[hint_layer], validated. */
    private Shape[] hintShapes(DistillSetup setup) {
        if (setup.teacherShapes().isEmpty() || setup.studentShapes().isEmpty()) {
            throw new IllegalArgumentException(
                    NAME
                            + " needs the networks' output shapes to build its regressor:"
                            + " DistillSetup.optOutputShapes(...) was not given");
        }
        List<Shape> t = FeatureMaps.shapes(setup.teacherShapes());
        List<Shape> s = FeatureMaps.shapes(setup.studentShapes());
        int k = Math.min(FeatureMaps.stageCount(t), FeatureMaps.stageCount(s));
        String key = optionsPath + ".hint_layer";
        if (hintLayer > k) {
            throw new IllegalArgumentException(
                    key
                            + ": got '"
                            + hintLayer
                            + "', allowed: 0.."
                            + k
                            + " for these networks (RepDistiller's feats: 0 = stem, 1.."
                            + k
                            + " = stage1..stage"
                            + k
                            + "; "
                            + (k + 1)
                            + " is the pooled vector, which has no map to regress)");
        }
        String problem = ConvReg.check(s.get(hintLayer), t.get(hintLayer));
        if (problem != null) {
            throw new IllegalArgumentException(
                    key
                            + ": got '"
                            + hintLayer
                            + "' (student "
                            + FeatureMaps.perSample(s.get(hintLayer))
                            + ", teacher "
                            + FeatureMaps.perSample(t.get(hintLayer))
                            + "): "
                            + problem
                            + "; pick another hint_layer in 0.."
                            + k);
        }
        return new Shape[] {s.get(hintLayer), t.get(hintLayer)};
    }

    /**
     * Returns the regressor ({@link ConvReg}).
     *
     * @return the block, {@code null} before {@link #initialize}
     */
    @Override
    public Block auxiliaryBlock() {
        return regressor;
    }

    /**
     * Computes {@code fitnet} (and {@code kd} when alpha &gt; 0).
     *
     * @param batch student feats[hint_layer] (B, Cs, Hs, Ws) with gradient, teacher's (B, Ct, Ht,
     *     Wt)
     * @return the terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        if (regressor == null) {
            throw new IllegalStateException(NAME + ": call initialize(...) before losses(...)");
        }
        NDArray fs = FeatureMaps.get(batch.student(), hintLayer); // (B, Cs, Hs, Ws)
        NDArray ft = FeatureMaps.get(batch.teacher(), hintLayer).stopGradient(); // (B, Ct, Ht, Wt)
        NDArray reg =
                regressor
                        .forward(batch.parameterStore(), new NDList(fs), batch.training())
                        .singletonOrThrow(); // (B, Ct, Ht, Wt)
        NDArray mse = reg.sub(ft).square().mean(); // ()
        LossTerms terms = new LossTerms().put(NAME, Scalars.mul(mse, beta));
        return kd.addTo(terms, batch);
    }

    /**
     * Estimates the regressor's activations kept for the backward pass: conv, BatchNorm and ReLU
     * outputs, the difference and its square, with gradients (about 8 copies of a teacher map (B,
     * Ct, Ht, Wt)).
     *
     * @param setup the output shapes; 0 when absent
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        if (setup.teacherShapes().isEmpty()) {
            return 0;
        }
        List<Shape> t = FeatureMaps.shapes(setup.teacherShapes());
        if (hintLayer >= t.size() - 1) {
            return 0;
        }
        double map = FeatureMaps.perSampleSize(t.get(hintLayer));
        return (long) (8.0 * batchSize * map * setup.dataType().getNumOfBytes());
    }

    /** Builder for {@link FitNetDistiller}; every setting is optional ({@code opt*}). */
    public static final class Builder {
        private double beta = 100;
        private int hintLayer = 2;
        private KdTerm kd = new KdTerm(0, KdTerm.DEFAULT_TEMPERATURE);
        private String optionsPath = "distill.options";

        Builder() {}

        /**
         * Sets the hint term's weight; default 100 (RepDistiller's {@code -b}).
         *
         * @param beta &gt;= 0
         * @return this builder
         */
        public Builder optBeta(double beta) {
            this.beta = beta;
            return this;
        }

        /**
         * Sets the feats index of the hint; default 2 (stage 2).
         *
         * @param hintLayer 0 = stem, 1..K = stages
         * @return this builder
         */
        public Builder optHintLayer(int hintLayer) {
            this.hintLayer = hintLayer;
            return this;
        }

        /**
         * Sets the optional KD term; default none (alpha 0).
         *
         * @param kd the term
         * @return this builder
         */
        public Builder optKdTerm(KdTerm kd) {
            this.kd = kd;
            return this;
        }

        /**
         * Sets the config path named in messages; default {@code distill.options}.
         *
         * @param path the path
         * @return this builder
         */
        public Builder optOptionsPath(String path) {
            this.optionsPath = path;
            return this;
        }

        /**
         * Builds the distiller.
         *
         * @return the distiller
         * @throws IllegalArgumentException for beta &lt; 0 or hint_layer &lt; 0
         */
        public FitNetDistiller build() {
            if (!(beta >= 0) || Double.isInfinite(beta) || hintLayer < 0) {
                throw new IllegalArgumentException(
                        NAME
                                + ": beta must be a finite number >= 0 and hint_layer >= 0, got beta="
                                + beta
                                + ", hint_layer="
                                + hintLayer);
            }
            return new FitNetDistiller(this);
        }
    }

    /**
     * Factory for {@code fitnet}; options {@code beta} (100), {@code hint_layer} (2), {@code alpha}
     * (0), {@code kd_temperature} (4).
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of(NAME);
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            Builder b =
                    builder()
                            .optBeta(options.getDouble("beta", 100, 0))
                            .optHintLayer(options.getInt("hint_layer", 2, 0))
                            .optKdTerm(KdTerm.fromOptions(options, 0))
                            .optOptionsPath(options.path());
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
