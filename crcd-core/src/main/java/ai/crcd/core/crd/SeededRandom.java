package ai.crcd.core.crd;

/**
 * A small seeded generator (SplitMix64) whose whole state is one {@code long}, so that a checkpoint
 * can store it and a resumed run draws exactly the same numbers. Not thread-safe.
 */
final class SeededRandom {

    private long state;

    /**
     * Creates a generator.
     *
     * @param seed the seed (any value)
     */
    SeededRandom(long seed) {
        this.state = seed;
    }

    /**
     * Derives an independent seed for a named purpose from a parent seed.
     *
     * @param seed the parent seed
     * @param stream a small number naming the purpose
     * @return the derived seed
     */
    static long derive(long seed, long stream) {
        return new SeededRandom(seed ^ (stream * 0xD1B54A32D192ED03L)).nextLong();
    }

    /**
     * Returns the state, for checkpoints.
     *
     * @return the state
     */
    long state() {
        return state;
    }

    /**
     * Restores a state returned by {@link #state()}.
     *
     * @param state the state
     */
    void setState(long state) {
        this.state = state;
    }

    /**
     * Returns the next 64 random bits.
     *
     * @return the bits
     */
    long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Returns a uniform integer in [0, bound), without modulo bias (Lemire's method).
     *
     * @param bound the exclusive upper bound, positive
     * @return the integer
     */
    int nextInt(int bound) {
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /**
     * Returns a uniform float in [0, 1) with 24 random bits.
     *
     * @return the float
     */
    float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /**
     * Fills an array with uniform values in [-bound, bound).
     *
     * @param out the array to fill
     * @param bound the half width
     */
    void fillUniform(float[] out, double bound) {
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) ((2.0 * nextFloat() - 1.0) * bound);
        }
    }
}
