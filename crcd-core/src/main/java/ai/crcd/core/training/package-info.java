/**
 * The one training step of crcd ({@link ai.crcd.core.training.DistillStep}) and the pieces that let
 * DJL's {@code EasyTrain} and {@code TrainingListener}s drive it ({@link
 * ai.crcd.core.training.Distillation}).
 */
package ai.crcd.core.training;
