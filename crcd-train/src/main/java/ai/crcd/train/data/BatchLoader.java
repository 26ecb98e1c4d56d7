package ai.crcd.train.data;

import java.util.Iterator;

/**
 * Yields the batches of one epoch. Training loaders shuffle and augment with a seed derived from
 * (seed, epoch), so the same seed gives the same batches, and an epoch can be replayed on resume.
 */
public interface BatchLoader extends AutoCloseable {

    /**
     * Returns the batches of an epoch. The caller closes each batch after use.
     *
     * @param epoch the epoch number, from 0
     * @return the batches, in order
     */
    Iterator<IndexedBatch> epoch(int epoch);

    /**
     * Returns the number of batches per epoch.
     *
     * @return the count
     */
    int batchesPerEpoch();

    /**
     * Returns the number of samples.
     *
     * @return the count
     */
    int size();

    @Override
    void close();
}
