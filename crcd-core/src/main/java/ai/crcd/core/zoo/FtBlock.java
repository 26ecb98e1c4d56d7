package ai.crcd.core.zoo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * FT's auxiliary networks under one parent: the {@link Paraphraser} (teacher side, trained in the
 * init stage only) and the {@link Translator} (student side, trained in the main stage).
 *
 * <p>Forward: [student last stage, teacher last stage] gives [translator output, paraphraser
 * factor].
 */
public final class FtBlock extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Paraphraser paraphraser;
    private final Translator translator;

    /**
     * Creates both networks.
     *
     * @param studentChannels Cs of the student's last stage
     * @param teacherChannels Ct of the teacher's last stage
     * @param rate k (0.5)
     */
    public FtBlock(long studentChannels, long teacherChannels, double rate) {
        super(VERSION);
        paraphraser = addChildBlock("paraphraser", new Paraphraser(teacherChannels, rate));
        translator =
                addChildBlock("translator", new Translator(studentChannels, teacherChannels, rate));
    }

    /**
     * Returns the paraphraser.
     *
     * @return the paraphraser
     */
    public Paraphraser paraphraser() {
        return paraphraser;
    }

    /**
     * Returns the translator.
     *
     * @return the translator
     */
    public Translator translator() {
        return translator;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(
                translator.forward(ps, new NDList(inputs.get(0)), training).singletonOrThrow(),
                paraphraser.factor(ps, inputs.get(1), training));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {
            translator.getOutputShapes(new Shape[] {inputShapes[0]})[0],
            paraphraser.getOutputShapes(new Shape[] {inputShapes[1]})[0]
        };
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        translator.initialize(manager, dataType, inputShapes[0]);
        paraphraser.initialize(manager, dataType, inputShapes[1]);
    }
}
