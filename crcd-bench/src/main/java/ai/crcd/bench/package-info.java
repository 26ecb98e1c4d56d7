/** Benchmarks comparing distillation methods on accuracy, step time and memory. */
package ai.crcd.bench;
