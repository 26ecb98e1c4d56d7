package ai.crcd.core;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;

/**
 * A network that distillers can read: its forward pass returns the {@link FeatureOutput} layout and
 * its classifier is one linear layer {@code z = W f + b} on the pooled feature {@code f}.
 *
 * <p>The gradient element of CRCD uses {@code W} in closed form, so the network exposes it.
 */
public interface DistillableNetwork extends Block {

    /**
     * Returns the number of classes C.
     *
     * @return C
     */
    int numClasses();

    /**
     * Returns the dimension D of the pooled feature.
     *
     * @return D
     */
    int featureDim();

    /**
     * Returns the weight of the final linear classifier.
     *
     * @return a parameter of shape (C, D)
     */
    Parameter classifierWeight();
}
