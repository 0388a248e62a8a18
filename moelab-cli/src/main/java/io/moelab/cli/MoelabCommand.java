package io.moelab.cli;

import io.moelab.cli.eplb.EplbCommand;
import io.moelab.cli.evolve.EvolveCommand;
import io.moelab.cli.runtime.BenchCommand;
import io.moelab.cli.runtime.GenerateCommand;
import io.moelab.cli.runtime.LogitsCommand;
import io.moelab.cli.runtime.PerplexityCommand;
import io.moelab.cli.runtime.TraceCommand;
import io.moelab.cli.train.TrainCommand;
import io.moelab.cli.sim.SimCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code moelab} command. */
@Command(name = "moelab", mixinStandardHelpOptions = true, versionProvider = MoelabCommand.Version.class,
        description = "Make Mixture-of-Experts models cheap to serve.",
        subcommands = {EplbCommand.class, SimCommand.class, EvolveCommand.class,
                LogitsCommand.class, GenerateCommand.class,
                PerplexityCommand.class, TraceCommand.class, BenchCommand.class, TrainCommand.class,
                HelpCommand.class})
public final class MoelabCommand {
    private boolean verbose;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces on errors.")
    void setVerbose(boolean verbose) {
        this.verbose = verbose;
    }

    boolean verbose() {
        return verbose;
    }

    /** The version from the jar manifest. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MoelabCommand.class.getPackage().getImplementationVersion();
            return new String[] {"moelab " + (v == null ? "(development build)" : v),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
