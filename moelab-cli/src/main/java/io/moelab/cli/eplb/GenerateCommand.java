package io.moelab.cli.eplb;

import io.moelab.cli.support.Choices;
import io.moelab.cli.support.Heap;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Progress;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab eplb generate}: a synthetic expert-load trace. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate a synthetic expert-load trace, deterministic by seed.",
                "Skewed expert popularity with different hot experts per layer, random-walk and mean-reverting "
                        + "drift, dead experts, and a mixture of traffic domains (say chat and math) whose shares "
                        + "cycle over time.",
                "Written as vLLM-style expert-load JSON, load_history (gzip-compressed if FILE ends in .gz), or "
                        + "moelab's compact format."})
public final class GenerateCommand implements Callable<Integer>, OptionFields {
    @Spec
    private CommandSpec spec;

    @Option(names = "--layers", required = true, paramLabel = "L", description = "MoE layers.")
    private int layers;

    @Option(names = "--experts", required = true, paramLabel = "E", description = "Experts per layer.")
    private int experts;

    @Option(names = "--steps", required = true, paramLabel = "S", description = "Steps (forward passes).")
    private int steps;

    @Option(names = "--seed", required = true, paramLabel = "K", description = "Random seed.")
    private long seed;

    @Option(names = "--output", required = true, paramLabel = "FILE",
            description = "Where to write the trace; - prints a vllm one on stdout (the note then goes to stderr).")
    private Path output;

    @Option(names = "--format", defaultValue = "vllm", paramLabel = "FORMAT",
            description = "vllm or compact (default: ${DEFAULT-VALUE}).")
    private String format;

    @Option(names = "--tokens-per-step", paramLabel = "T", description = "Tokens per step (default: 4096).")
    private Integer tokensPerStep;

    @Option(names = "--top-k", paramLabel = "K", description = "Experts per token (default: min(8, E)).")
    private Integer topK;

    @Option(names = "--skew", defaultValue = "lognormal", paramLabel = "SHAPE",
            description = "Expert popularity: lognormal or zipf (default: ${DEFAULT-VALUE}).")
    private String skew;

    @Option(names = "--skew-param", paramLabel = "X",
            description = "Lognormal sigma of log-popularity, or the Zipf exponent (default: 1.0).")
    private Double skewParameter;

    @Option(names = "--walk-sigma", paramLabel = "X",
            description = "Random-walk drift of log-popularity per step (default: 0.02).")
    private Double walkSigma;

    @Option(names = "--revert-std", paramLabel = "X",
            description = "Std of the mean-reverting part of log-popularity (default: 0.3).")
    private Double revertStd;

    @Option(names = "--revert-half-life", paramLabel = "STEPS",
            description = "Half-life of mean-reverting deviations (default: 20).")
    private Double revertHalfLife;

    @Option(names = "--zero-fraction", paramLabel = "F",
            description = "Fraction of experts that get no tokens (default: 0.015 when E >= 16, else 0).")
    private Double zeroFraction;

    @Option(names = "--domains", paramLabel = "D", description = "Traffic domains (default: 2).")
    private Integer domains;

    @Option(names = "--domain-correlation", paramLabel = "RHO",
            description = "Correlation of expert preferences between domains, 0..1 (default: 0.5).")
    private Double domainCorrelation;

    @Option(names = "--domain-period", paramLabel = "STEPS",
            description = "Steps for the domain mixture to cycle once (default: 200).")
    private Double domainPeriod;

    @Option(names = "--domain-swing", paramLabel = "X",
            description = "Amplitude of the domain shares, in logits (default: 1.5).")
    private Double domainSwing;

    @Override
    public Integer call() throws Exception {
        // The formats it writes: the trace reader's list named sglang too, which is read-only.
        if (format.equalsIgnoreCase("sglang")) {
            throw new InvalidInputException("--format", "sglang dumps are read, not written; use vllm or compact");
        }
        TraceFormat traceFormat = TraceFormat.parse(Choices.require("--format", format, "vllm", "compact"));
        // A word, not picocli's enum: that listed [LOGNORMAL, ZIPF] where the help says lognormal or zipf.
        SyntheticTraceSpec.Skew shape = SyntheticTraceSpec.Skew.valueOf(
                Choices.require("--skew", skew, "lognormal", "zipf").toUpperCase(Locale.ROOT));
        SyntheticTraceSpec defaults = SyntheticTraceSpec.defaults(Math.max(1, layers), Math.max(1, experts),
                Math.max(1, steps), seed);
        SyntheticTraceSpec s = new SyntheticTraceSpec(layers, experts, steps, seed,
                or(tokensPerStep, defaults.tokensPerStep()), or(topK, defaults.topK()), shape,
                or(skewParameter, defaults.skewParameter()), or(walkSigma, defaults.walkSigma()),
                or(revertStd, defaults.revertStd()), or(revertHalfLife, defaults.revertHalfLife()),
                or(zeroFraction, defaults.zeroFraction()), or(domains, defaults.domains()),
                or(domainCorrelation, defaults.domainCorrelation()), or(domainPeriod, defaults.domainPeriod()),
                or(domainSwing, defaults.domainSwing()));
        // Generated and written block by block, the steps are never held together: only a step's size is bounded,
        // by the block of at least one step, the step being written and the compact writer's previous step.
        Heap.require("--experts", 4L * Double.BYTES * s.layers() * s.experts(), String.format(Locale.ROOT,
                "a step of L x E = %d x %d loads", s.layers(), s.experts()), "fewer layers or experts");
        // Gzip, by format or name (.gz), is binary: not for -, and written through a device such as /dev/stdout.
        boolean binary = traceFormat == TraceFormat.COMPACT || output.toString().endsWith(".gz");
        if (binary) {
            Outputs.refuseStdout("--output", output, "a compact trace (gzip-compressed binary)");
        }
        // Before generating: a path that cannot be written (a directory, a file where a parent goes) failed only after.
        Outputs.check("--output", output);
        try (Outputs.TextOutput text = Outputs.text(binary ? null : output)) {
            try (Progress progress = Progress.start("generate", s.steps())) {
                SyntheticTraceGenerator.write(s, text.toStdout() ? text.file() : output, traceFormat,
                        (done, total) -> progress.stepTo(done));
            }
            text.print(spec.commandLine().getOut());
        }
        Outputs.notes(spec, output).printf(Locale.ROOT, "wrote %s: %s x %s x %s, %s x top-%d "
                        + "per step, %s skew %s, %s per layer, %s (%s%s)%n", Outputs.name(output),
                Nouns.count(s.steps(), "step"), Nouns.count(s.layers(), "layer"), Nouns.count(s.experts(), "expert"),
                Nouns.count(s.tokensPerStep(), "token"), s.topK(), s.skew().name().toLowerCase(Locale.ROOT),
                Numbers.plain(s.skewParameter()), Nouns.count(s.deadExperts(), "dead expert"),
                Nouns.count(s.domains(), "domain"),
                traceFormat.cliName(),
                // A device or FIFO, written through, has no size that counts what went into it.
                !Outputs.isStdout(output) && Files.isRegularFile(output)
                        ? String.format(Locale.ROOT, ", %,d bytes", Files.size(output)) : "");
        return 0;
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
