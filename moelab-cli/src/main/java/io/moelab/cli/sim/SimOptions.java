package io.moelab.cli.sim;

import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Lists;
import io.moelab.cli.support.Traces;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.sim.Policy;
import io.moelab.sim.Simulation;
import io.moelab.sim.TraceSource;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import io.moelab.sim.spec.SpecFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options {@code sim} and {@code sim sweep} share. They are checked by {@link #require} rather than by
 * picocli, because {@code sim} also has a subcommand and must parse without them.
 */
final class SimOptions {
    @Option(names = "--trace", paramLabel = "FILE", description = "Expert-load trace (vLLM JSON, SGLang dump, "
            + "moelab compact, or builtin:NAME; a directory of one SGLang per_pass dump's rank files), - for stdin "
            + "(the format told from the content); repeat to concatenate. Required.")
    List<String> traces;

    @Option(names = "--model", paramLabel = "MODEL", description = "Model preset (deepseek-v3, deepseek-v2-lite, "
            + "qwen3-30b-a3b, qwen3-235b-a22b, mixtral-8x7b), a moelab model JSON or a Hugging Face config.json, - "
            + "for stdin. Required.")
    String model;

    @Option(names = "--cluster", paramLabel = "CLUSTER", description = "Cluster preset NxG-h100 or NxG-h800 "
            + "(N nodes of G GPUs, e.g. 4x8-h100) or a cluster JSON file, - for stdin. Required.")
    String cluster;

    @Option(names = "--policies", split = ",", paramLabel = "POLICY", defaultValue = "none,deepseek,moelab",
            description = "Comma-separated: none (keep the initial placement) or EPLB algorithm specs "
                    + "NAME[:MODE][:KEY=VALUE] (default: ${DEFAULT-VALUE}).")
    List<String> policies;

    @Option(names = "--rebalance-every", paramLabel = "K", defaultValue = "100",
            description = "Steps between rebalances (default: ${DEFAULT-VALUE}).")
    int rebalanceEvery;

    @Option(names = "--window", paramLabel = "W", description = "Steps of load each rebalance plans from "
            + "(default: K).")
    Integer window;

    @Option(names = "--redundant", paramLabel = "R", description = "Redundant expert slots per layer; E + R must "
            + "fill the GPUs evenly (default: one per GPU beyond the fewest that hold every expert).")
    Integer redundant;

    @Option(names = "--history", paramLabel = "H", defaultValue = "16",
            description = "Earlier W-step windows given to algorithms that forecast (default: ${DEFAULT-VALUE}).")
    int history;

    @Option(names = "--routing", paramLabel = "ROUTING", defaultValue = "even",
            description = "How tokens split over an expert's replicas: even, or node-local (to replicas on the "
                    + "token's own node when it has any) (default: ${DEFAULT-VALUE}).")
    String routing;

    @Option(names = "--overlap-migration", description = "Plan and move weights in the background while the old "
            + "placement serves, instead of stalling; the transfer shares each GPU's links with the all-to-all "
            + "meanwhile, slowing those steps.")
    boolean overlapMigration;

    @Option(names = "--planning-ms", paramLabel = "MS", description = "Charge this much per plan instead of the "
            + "algorithm's measured runtime (for reproducible numbers).")
    Double planningMs;

    @Option(names = "--tokens-per-step", paramLabel = "T", description = "Rescale every step to T tokens (a batch "
            + "size), keeping its expert mix (default: the trace's counts).")
    Double tokensPerStep;

    @Option(names = "--dispatch-bytes", paramLabel = "B", defaultValue = "2",
            description = "Bytes per activation value in dispatch: 2 for bf16, 1 for FP8 (default: ${DEFAULT-VALUE}).")
    int dispatchBytes;

    @Option(names = "--combine-bytes", paramLabel = "B", defaultValue = "2",
            description = "Bytes per activation value in combine (default: ${DEFAULT-VALUE}).")
    int combineBytes;

    @Option(names = "--out", paramLabel = "DIR", description = "Directory for the summary JSON and plots. Required.")
    Path out;

    /** Fails with a usage error naming the first missing required option. */
    void require(CommandLine commandLine) {
        String missing = traces == null ? "--trace=FILE" : model == null ? "--model=MODEL"
                : cluster == null ? "--cluster=CLUSTER" : out == null ? "--out=DIR" : null;
        if (missing != null) {
            throw new ParameterException(commandLine, "Missing required option: '" + missing + "'");
        }
        Lists.requireItems(commandLine, "--policies");
        // Before anything is read: standard input can be read once.
        Map<String, List<String>> inputs = new LinkedHashMap<>();
        inputs.put("--trace", traces);
        inputs.put("--model", List.of(model));
        inputs.put("--cluster", List.of(cluster));
        Inputs.requireOne(inputs);
    }

    /** The files the options name (a preset or {@code builtin:} trace is none), for checks against outputs. */
    Map<String, List<Path>> inputs() {
        return Map.of("--trace", Traces.files(traces), "--model", file(model), "--cluster", file(cluster));
    }

    private static List<Path> file(String given) {
        return Inputs.isStdin(given) ? List.of() : List.of(Path.of(given));
    }

    /**
     * The trace's sources, to be closed after the run: a source that cannot be read twice (standard input, a pipe
     * such as {@code /dev/stdin}) copied to a temporary file, since a run reads the trace again step by step rather
     * than hold it.
     */
    Traces.Rereadable traceSources() {
        return Traces.rereadable(traces);
    }

    /** The trace, read once here to check it. */
    static TraceSource trace(Traces.Rereadable sources) {
        return TraceSource.of(sources::read);
    }

    /** The model: a preset, or a JSON file or standard input (copied to a temporary file, errors naming it). */
    ModelSpec modelSpec() {
        return Inputs.isStdin(model) ? Inputs.read(Path.of(model), file -> SpecFiles.model(file.toString()))
                : SpecFiles.model(model);
    }

    /** The cluster: a preset, or a JSON file or standard input, as {@link #modelSpec}. */
    ClusterSpec clusterSpec() {
        return Inputs.isStdin(cluster) ? Inputs.read(Path.of(cluster), file -> SpecFiles.cluster(file.toString()))
                : SpecFiles.cluster(cluster);
    }

    List<Policy> policyList() {
        return Policy.parseAll(policies);
    }

    Simulation.Options simulationOptions() {
        StepModel.Routing split = switch (routing.toLowerCase(Locale.ROOT)) {
            case "even" -> StepModel.Routing.EVEN;
            case "node-local", "node_local" -> StepModel.Routing.NODE_LOCAL;
            default -> throw new InvalidInputException("--routing", "unknown routing '" + routing
                    + "' (known: even, node-local)");
        };
        if (dispatchBytes <= 0) {
            throw new InvalidInputException("--dispatch-bytes", "bytes per value must be at least 1, got "
                    + dispatchBytes);
        }
        if (combineBytes <= 0) {
            throw new InvalidInputException("--combine-bytes", "bytes per value must be at least 1, got "
                    + combineBytes);
        }
        // The library reads -1, NaN and 0 as "the default" for these three; a user who typed one meant something else.
        if (redundant != null && redundant < 0) {
            throw new InvalidInputException("--redundant", "must be 0 or more, got " + redundant);
        }
        if (planningMs != null && !(planningMs >= 0 && planningMs <= Simulation.MAX_PLANNING_SECONDS * 1e3)) {
            throw new InvalidInputException("--planning-ms", "must be a number from 0 to "
                    + (long) (Simulation.MAX_PLANNING_SECONDS * 1e3) + " ms, got " + Numbers.plain(planningMs));
        }
        // At most a billion: far beyond any batch, and window sums of such steps stay loads a planner can add up.
        if (tokensPerStep != null && !(tokensPerStep > 0 && tokensPerStep <= 1e9)) {
            throw new InvalidInputException("--tokens-per-step", "must be a number > 0 and at most 1e9, got "
                    + Numbers.plain(tokensPerStep));
        }
        return new Simulation.Options(rebalanceEvery, window == null ? rebalanceEvery : window,
                redundant == null ? -1 : redundant, history, overlapMigration,
                planningMs == null ? Double.NaN : planningMs / 1e3, tokensPerStep == null ? 0 : tokensPerStep,
                new StepModel.Options(split, dispatchBytes, combineBytes));
    }

    /** One line on what is being simulated, for the table's header. */
    String describe(TraceSource trace) {
        return "trace: " + String.join(" + ", traces.stream().map(Inputs::name).toList()) + " ("
                + Nouns.count(trace.steps(), "step") + ", "
                + Nouns.count(trace.layers(), "layer") + " x " + Nouns.count(trace.experts(), "expert") + ")";
    }
}
