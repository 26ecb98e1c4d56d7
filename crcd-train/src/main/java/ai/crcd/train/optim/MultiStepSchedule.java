package ai.crcd.train.optim;

import java.util.List;

/**
 * Epoch-milestone learning rate, as RepDistiller's {@code adjust_learning_rate} and PyTorch's
 * {@code MultiStepLR} stepped once per epoch: {@code lr(e) = base * gamma^k}, k = number of
 * milestones m with {@code e >= m} (epochs counted from 0). With milestones 150/180/210 the 151st
 * epoch (index 150) is the first at base * 0.1.
 */
public final class MultiStepSchedule {

    private final double base;
    private final List<Integer> milestones;
    private final double gamma;

    /**
     * Creates the schedule.
     *
     * @param base the initial learning rate
     * @param milestones strictly increasing epoch indices
     * @param gamma the factor at each milestone
     */
    public MultiStepSchedule(double base, List<Integer> milestones, double gamma) {
        this.base = base;
        this.milestones = List.copyOf(milestones);
        this.gamma = gamma;
    }

    /**
     * Returns the learning rate of an epoch.
     *
     * @param epoch the epoch index, from 0
     * @return the learning rate used by every step of that epoch
     */
    public double lr(int epoch) {
        double lr = base;
        for (int m : milestones) {
            if (epoch >= m) {
                lr *= gamma;
            }
        }
        return lr;
    }
}
