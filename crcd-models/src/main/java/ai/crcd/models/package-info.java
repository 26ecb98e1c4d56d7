/** CIFAR teacher and student networks that return the {@link ai.crcd.core.FeatureOutput} layout. */
package ai.crcd.models;
