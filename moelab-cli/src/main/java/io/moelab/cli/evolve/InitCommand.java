package io.moelab.cli.evolve;

import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Outputs;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.task.Task;
import io.moelab.evolve.task.Tasks;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab evolve init}: write a task's initial program and a commented configuration. */
@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write the task's initial program and a commented config.yaml (every key with its default) "
                + "into DIR: the config to edit and pass with --config; the program to read (a run of the built-in "
                + "eplb task starts from the task's own copy, so edits to it take effect only in a task directory "
                + "of your own, as its initial_program).")
public final class InitCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "eplb|DIR", description = "The task.")
    private String task;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Where to write.")
    private Path dir;

    @Option(names = "--force", description = "Overwrite existing files.")
    private boolean force;

    @Override
    public Integer call() throws Exception {
        if (dir.toString().isEmpty()) {
            // As 'evolve' refuses an empty --out: the files went to the working directory.
            throw new InvalidInputException("--dir", "an empty path; name a directory (. for the working directory)");
        }
        if (Inputs.isStdin(task)) {
            Inputs.refuseDirectory("--task", Path.of(task)); // as 'evolve' refuses it
        }
        Task t = Tasks.resolve(task);
        Path program = dir.resolve(t.programFileName());
        Path config = dir.resolve("config.yaml");
        for (Path p : List.of(program, config)) {
            if (Files.exists(p) && !force) {
                throw new InvalidInputException("--dir", p + " exists (use --force to overwrite)");
            }
        }
        Outputs.checkDirectory("--dir", dir, t.programFileName(), "config.yaml");
        AtomicFiles.together(() -> { // both files or neither
            AtomicFiles.writeString(program, t.initialProgram());
            AtomicFiles.writeString(config, EvolveConfig.commentedDefaults());
        });
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + program + " (the initial program of task " + t.name() + ") and " + config);
        out.println("run: bin/moelab evolve --task " + task + " --model NAME --api-base URL --iterations 100 --config "
                + config + " --out RUN_DIR");
        out.flush();
        return 0;
    }
}
