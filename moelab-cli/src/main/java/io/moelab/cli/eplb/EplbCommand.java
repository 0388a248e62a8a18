package io.moelab.cli.eplb;

import picocli.CommandLine.Command;

/** {@code moelab eplb}: expert-parallel load balancing. */
@Command(name = "eplb", mixinStandardHelpOptions = true,
        description = "Expert-parallel load balancing: plan expert placements, score them on traces, make traces.",
        subcommands = {RebalanceCommand.class, EvaluateCommand.class, GenerateCommand.class, BenchCommand.class,
                ReportCommand.class, DemoCommand.class})
public final class EplbCommand {
}
