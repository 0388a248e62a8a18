package io.moelab.evolve.task;

import io.moelab.eplb.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds a task by its command-line name: a built-in task or a task directory. */
public final class Tasks {
    private Tasks() {
    }

    /**
     * The task named on the command line: {@code eplb} (or {@code eplb:quick}, a small suite for smoke tests),
     * or a directory holding {@code task.yaml}.
     *
     * @throws InvalidInputException for a name that is neither
     */
    public static Task resolve(String spec) {
        if (spec.equals("eplb") || spec.startsWith("eplb:")) {
            return BuiltinTasks.eplb(spec.equals("eplb") ? "default" : spec.substring("eplb:".length()));
        }
        Path dir = Path.of(spec);
        if (Files.isDirectory(dir)) {
            return GenericTask.load(dir);
        }
        throw new InvalidInputException("--task", "'" + spec + "' is neither a built-in task (eplb, eplb:quick) nor"
                + " a task directory");
    }
}
