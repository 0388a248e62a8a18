package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;

/**
 * Parameters of a synthetic expert-load trace; see {@link SyntheticTraceGenerator} for the model. Field names
 * in error messages follow the command-line options of {@code eplb generate}.
 *
 * @param layers          MoE layers (L)
 * @param experts         logical experts per layer (E)
 * @param steps           steps to generate (S)
 * @param seed            random seed; equal specs give equal traces
 * @param tokensPerStep   tokens routed per step and layer (T); each picks {@code topK} distinct experts
 * @param topK            experts per token (k)
 * @param skew            shape of expert popularity within a layer
 * @param skewParameter   lognormal sigma of log-popularity, or the Zipf exponent
 * @param walkSigma       per-step standard deviation of the random-walk drift of log-popularity
 * @param revertStd       stationary standard deviation of the mean-reverting drift of log-popularity
 * @param revertHalfLife  steps for mean-reverting deviations to halve
 * @param zeroFraction    fraction of experts per layer that receive no tokens at all
 * @param domains         traffic domains (such as chat-like and math-like requests) with their own hot experts
 * @param domainCorrelation correlation (0..1) of expert preferences between domains
 * @param domainPeriod    steps for the domain mixture to complete one cycle
 * @param domainSwing     amplitude, in logits, of each domain's share of traffic over the cycle
 */
public record SyntheticTraceSpec(int layers, int experts, int steps, long seed, int tokensPerStep, int topK,
                                 Skew skew, double skewParameter, double walkSigma, double revertStd,
                                 double revertHalfLife, double zeroFraction, int domains, double domainCorrelation,
                                 double domainPeriod, double domainSwing) {

    /** Shape of expert popularity within a layer. */
    public enum Skew {
        /** Log-popularity is normal with standard deviation {@code skewParameter}. */
        LOGNORMAL,
        /** The r-th most popular expert has popularity proportional to r^-{@code skewParameter}. */
        ZIPF
    }

    /**
     * Most loads (layers x experts) one step of a generated trace holds: what the trace readers read back
     * (2^24; a generated trace they refuse would be of no use).
     */
    public static final int MAX_LOADS_PER_STEP = TraceLimits.MAX_LOADS_PER_STEP;
    /** Most experts per layer: what a placement has slots for, and the trace readers read back. */
    public static final int MAX_EXPERTS = TraceLimits.MAX_EXPERTS;

    /** Validates ranges. */
    public SyntheticTraceSpec {
        atLeast(layers, 1, "layers");
        atLeast(experts, 1, "experts");
        atLeast(steps, 1, "steps");
        atLeast(tokensPerStep, 1, "tokens-per-step");
        atLeast(topK, 1, "top-k");
        atLeast(domains, 1, "domains");
        if (experts > MAX_EXPERTS) {
            throw new InvalidInputException("experts", "E=" + experts + " is more than a trace is read with (at most "
                    + MAX_EXPERTS + ", the slots a placement has per layer)");
        }
        if ((long) layers * experts > MAX_LOADS_PER_STEP) {
            throw new InvalidInputException("experts", "L x E = " + layers + " x " + experts + " = "
                    + (long) layers * experts + " loads per step, more than a trace is read with (at most "
                    + MAX_LOADS_PER_STEP + ")");
        }
        if (topK > experts) {
            throw new InvalidInputException("top-k", "k=" + topK + " exceeds the number of experts E=" + experts);
        }
        nonNegative(skewParameter, "skew-param");
        nonNegative(walkSigma, "walk-sigma");
        nonNegative(revertStd, "revert-std");
        nonNegative(domainSwing, "domain-swing");
        if (!(revertHalfLife > 0) || Double.isInfinite(revertHalfLife)) {
            throw new InvalidInputException("revert-half-life", "must be a positive number of steps, got "
                    + Numbers.plain(revertHalfLife));
        }
        if (!(domainPeriod > 0) || Double.isInfinite(domainPeriod)) {
            throw new InvalidInputException("domain-period", "must be a positive number of steps, got "
                    + Numbers.plain(domainPeriod));
        }
        if (!(zeroFraction >= 0 && zeroFraction < 1)) {
            throw new InvalidInputException("zero-fraction", "must be in [0, 1), got " + Numbers.plain(zeroFraction));
        }
        if (experts - deadExperts(experts, zeroFraction) < topK) {
            throw new InvalidInputException("zero-fraction", Numbers.plain(zeroFraction)
                    + " leaves fewer live experts than top-k=" + topK);
        }
        if (!(domainCorrelation >= 0 && domainCorrelation <= 1)) {
            throw new InvalidInputException("domain-correlation", "must be in [0, 1], got "
                    + Numbers.plain(domainCorrelation));
        }
    }

    /**
     * Defaults for the given size: 4096 tokens per step, top-8 (or E if smaller), lognormal skew with
     * sigma 1, random walk 0.02 per step, mean-reverting deviations of 0.3 with a 20-step half-life, 1.5%
     * dead experts (rounded), two domains with correlation 0.5 cycling every 200 steps.
     */
    public static SyntheticTraceSpec defaults(int layers, int experts, int steps, long seed) {
        return new SyntheticTraceSpec(layers, experts, steps, seed, 4096, Math.min(8, experts), Skew.LOGNORMAL, 1.0,
                0.02, 0.3, 20, experts >= 16 ? 0.015 : 0.0, 2, 0.5, 200, 1.5);
    }

    /** The same spec with another token budget and top-k. */
    public SyntheticTraceSpec withRouting(int tokensPerStep, int topK) {
        return new SyntheticTraceSpec(layers, experts, steps, seed, tokensPerStep, topK, skew, skewParameter,
                walkSigma, revertStd, revertHalfLife, zeroFraction, domains, domainCorrelation, domainPeriod,
                domainSwing);
    }

    /** Loads in the whole trace: steps x layers x experts. */
    public long loads() {
        return (long) steps * layers * experts;
    }

    /** Experts per layer that get no tokens. */
    public int deadExperts() {
        return deadExperts(experts, zeroFraction);
    }

    private static int deadExperts(int experts, double fraction) {
        return (int) Math.round(experts * fraction);
    }

    private static void atLeast(int value, int min, String field) {
        if (value < min) {
            throw new InvalidInputException(field, "must be at least " + min + ", got " + value);
        }
    }

    private static void nonNegative(double value, String field) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new InvalidInputException(field, "must be a finite number >= 0, got " + Numbers.plain(value));
        }
    }
}
