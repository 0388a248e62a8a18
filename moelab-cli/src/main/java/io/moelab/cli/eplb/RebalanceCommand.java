package io.moelab.cli.eplb;

import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.Outputs;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.AlgorithmSpec;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.MoelabBalancer;
import io.moelab.eplb.algorithm.PlacementMode;
import io.moelab.eplb.eval.BalanceBound;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.eplb.eval.PlacementScore;
import io.moelab.eplb.io.PlacementFile;
import io.moelab.eplb.io.RebalanceInput;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab eplb rebalance}: one placement from one load matrix, like DeepSeek's rebalance_experts. */
@Command(name = "rebalance", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Plan a placement of expert replicas on GPUs from per-layer expert loads.",
                "IN.json: {\"weight\": [[...]], \"num_replicas\": R, \"num_groups\": G, \"num_nodes\": N, "
                        + "\"num_gpus\": M, \"history\": [[[...]]]} (history optional: earlier windows, oldest first).",
                "OUT.json: {\"algorithm\", \"phy2log\", \"log2phy\", \"logcnt\", and the topology}."})
public final class RebalanceCommand implements Callable<Integer>, OptionFields {
    private static final Map<String, String> TOPOLOGY_OPTIONS = Map.of("num_replicas", "--replicas", "num_groups",
            "--groups", "num_nodes", "--nodes", "num_gpus", "--gpus");

    @Spec
    private CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "IN.json",
            description = "Loads and topology; - reads them from stdin.")
    private Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT.json",
            description = "Where to write the placement; - prints it on stdout (the summary then goes to stderr).")
    private Path output;

    @Option(names = "--algorithm", paramLabel = "SPEC",
            description = "Load balancer NAME[:MODE][:KEY=VALUE...], NAME one of: ${COMPLETION-CANDIDATES} "
                    + "(default: the first).",
            completionCandidates = AlgorithmNames.class)
    private String algorithm;

    @Option(names = "--mode", paramLabel = "MODE",
            description = "auto (hierarchical when groups divide nodes), global or hierarchical (default: auto).")
    private String mode;

    @Option(names = "--previous", paramLabel = "PLACEMENT.json",
            description = "The placement in service (an OUT.json of this command): moelab then moves fewer experts "
                    + "and the experts moved are reported; - reads it from stdin (then --input is a file).")
    private Path previous;

    @Option(names = "--tolerance", paramLabel = "T",
            description = "moelab: GPU balancedness it may give up to move fewer experts, on the predicted loads "
                    + "and on the latest window (default: 0.002).")
    private Double tolerance;

    @Option(names = "--parallel", description = "moelab: plan layers (with their forecast and, with --previous, "
            + "their migration) on all cores; the same placement as without.")
    private boolean parallel;

    @Option(names = "--replicas", paramLabel = "R", description = "Override num_replicas: physical slots per layer.")
    private Integer replicas;

    @Option(names = "--groups", paramLabel = "G", description = "Override num_groups: expert groups.")
    private Integer groups;

    @Option(names = "--nodes", paramLabel = "N", description = "Override num_nodes.")
    private Integer nodes;

    @Option(names = "--gpus", paramLabel = "M", description = "Override num_gpus (GPUs in total).")
    private Integer gpus;

    @Override
    public Integer call() throws Exception {
        AlgorithmSpec algorithmSpec = AlgorithmSpec.parse(algorithm == null ? Algorithms.defaultName() : algorithm);
        // An option given both ways must agree: the spec's value used to win silently.
        if (mode != null) {
            PlacementMode m = PlacementMode.parse(mode);
            if (algorithmSpec.modeWritten() && algorithmSpec.mode() != m) {
                throw conflict("--mode", mode, "mode " + algorithmSpec.mode().cliName());
            }
            algorithmSpec = algorithmSpec.withDefaultMode(m);
        }
        // The spec as written first, so that its own errors name --algorithm; then each option added below is
        // tried on it, so that an algorithm without the option blames that option, not --algorithm.
        BalancerAlgorithm balancer = Algorithms.bySpec(algorithmSpec);
        if (tolerance != null) {
            if (!(tolerance >= 0 && tolerance <= 1)) {
                throw new InvalidInputException("--tolerance", "must be a number in [0, 1], got "
                        + Numbers.plain(tolerance));
            }
            String given = algorithmSpec.options().get("tolerance");
            if (given != null && !(algorithmSpec.number("tolerance", Double.NaN, 0, 1) == tolerance)) {
                throw conflict("--tolerance", Numbers.plain(tolerance), "tolerance=" + given);
            }
            algorithmSpec = algorithmSpec.withDefaultOption("tolerance", tolerance.toString());
            balancer = requireTakes(algorithmSpec, "--tolerance");
        }
        if (parallel) {
            if (!algorithmSpec.flag("parallel", true)) {
                throw conflict("--parallel", "on", "parallel=" + algorithmSpec.options().get("parallel"));
            }
            algorithmSpec = algorithmSpec.withDefaultOption("parallel", "on");
            balancer = requireTakes(algorithmSpec, "--parallel");
        }
        Map<String, List<Path>> inputs = new LinkedHashMap<>();
        inputs.put("--input", List.of(input));
        inputs.put("--previous", previous == null ? null : List.of(previous));
        Inputs.requireOne(inputs);
        // Not --previous: the new placement replacing the one in service, in place, is an update, not a loss.
        Outputs.check("--output", output, null, null,
                Map.of("--input", Inputs.isStdin(input) ? List.of() : List.of(input)));
        RebalanceInput in = Inputs.read(input, RebalanceInput::read);
        Topology topology;
        try {
            topology = in.topology(replicas, groups, nodes, gpus);
        } catch (InvalidInputException e) {
            throw topologyError(e);
        }
        Placement inService = previous == null ? null
                : Inputs.read(previous, file -> PlacementFile.read(file, in.weight().experts(), topology));
        BalancingRequest request;
        try {
            request = new BalancingRequest(in.weight(), in.history(), topology, inService);
        } catch (InvalidInputException e) {
            // The request names the placement in service "previous"; the file is what the user fixes, and every
            // other problem with it (PlacementFile's) names the file too; loads the request refuses are the input's.
            if (inService != null && e.field().equals("previous")) {
                throw e.as(Inputs.name(previous));
            }
            if (e.field().startsWith("weight") || e.field().startsWith("history")) {
                throw e.in(Inputs.name(input));
            }
            throw topologyError(e); // R less than E
        }
        long start = System.nanoTime();
        Placement placement;
        try {
            placement = balancer.rebalance(request);
        } catch (InvalidInputException e) {
            throw topologyError(e); // E not a multiple of G, for a hierarchical placement
        }
        double millis = (System.nanoTime() - start) / 1e6;
        try (Outputs.TextOutput text = Outputs.text(output)) {
            PlacementFile.write(text.file(), balancer.name(), placement);
            text.print(spec.commandLine().getOut());
        }
        PlacementScore score = PlacementEvaluator.score(placement, in.weight());
        PrintWriter out = Outputs.notes(spec, output);
        out.printf(Locale.ROOT, "%s: %s -> %s in %.1f ms; on the input load GPU balancedness "
                        + "%.4f (bound %.4f), %s with two replicas of one expert%s; wrote %s%n",
                balancer.name(), in.weight().shape(), topology, millis,
                score.gpuBalancedness(), BalanceBound.of(in.weight(), topology),
                Nouns.count(score.colocatedPairs(), "(layer, GPU) pair"),
                inService == null ? "" : ", " + Nouns.count(PlacementEvaluator.migration(inService, placement)
                        .expertsMoved(), "expert") + " moved from " + Inputs.name(previous), Outputs.name(output));
        return 0;
    }

    /**
     * A topology number's error under where the user set it: the option, or else the input file (as a bad load's
     * names it); options named in the problem under their own names. All read "num_gpus: ...", which named neither.
     */
    private InvalidInputException topologyError(InvalidInputException e) {
        Map<String, Integer> given = new LinkedHashMap<>();
        given.put("num_replicas", replicas);
        given.put("num_groups", groups);
        given.put("num_nodes", nodes);
        given.put("num_gpus", gpus);
        if (!given.containsKey(e.field())) {
            return e;
        }
        String problem = e.problem();
        for (Map.Entry<String, Integer> number : given.entrySet()) {
            if (number.getValue() != null) {
                problem = problem.replaceAll("\\b" + number.getKey() + "\\b", TOPOLOGY_OPTIONS.get(number.getKey()));
            }
        }
        return given.get(e.field()) != null
                ? new InvalidInputException(TOPOLOGY_OPTIONS.get(e.field()), problem, e)
                : new InvalidInputException(Inputs.name(input), e.field() + ": " + problem, e);
    }

    /** The balancer of {@code withOption}, unless its algorithm does not take the option that {@code option} added. */
    private BalancerAlgorithm requireTakes(AlgorithmSpec withOption, String option) {
        try {
            return Algorithms.bySpec(withOption);
        } catch (InvalidInputException e) {
            // Only a spec given with --algorithm can lack it: the default is moelab.
            throw new InvalidInputException(option, "applies to " + MoelabBalancer.NAME + " only, not to --algorithm "
                    + algorithm, e);
        }
    }

    private InvalidInputException conflict(String option, String value, String specSays) {
        return new InvalidInputException(option, value + " conflicts with --algorithm " + algorithm + ", which sets "
                + specSays);
    }
}
