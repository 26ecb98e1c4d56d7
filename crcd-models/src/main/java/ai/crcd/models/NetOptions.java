package ai.crcd.models;

/**
 * What {@link Models.Builder} hands to an architecture's constructor (package-private).
 *
 * @param name the canonical model name
 * @param numClasses C, at least 1
 * @param inChannels input channels, at least 1
 * @param preActivation whether the forward output carries the pre-activation stage outputs
 */
record NetOptions(String name, int numClasses, int inChannels, boolean preActivation) {}
