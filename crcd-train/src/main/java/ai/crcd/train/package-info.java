/** Config-driven training and distillation: data sets, loader, training loop, checkpoints. */
package ai.crcd.train;
