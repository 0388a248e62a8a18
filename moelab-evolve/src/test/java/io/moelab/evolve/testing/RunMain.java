package io.moelab.evolve.testing;

import io.moelab.evolve.config.EvolveConfig;
import io.moelab.evolve.llm.CostLedger;
import io.moelab.evolve.llm.LlmEnsemble;
import io.moelab.evolve.llm.RecordingClient;
import io.moelab.evolve.run.EvolutionRun;
import io.moelab.evolve.run.EvolveSettings;
import io.moelab.evolve.run.RunListener;
import io.moelab.evolve.task.Task;
import io.moelab.evolve.task.Tasks;
import java.nio.file.Path;

/**
 * A run in a process of its own, so that tests can kill it with SIGKILL. Arguments: task, api base, iterations,
 * out, config file, and {@code resume} or {@code fresh}.
 */
public final class RunMain {
    private RunMain() {
    }

    /** Runs and exits 0 when the run completes. */
    public static void main(String[] args) throws Exception {
        Task task = Tasks.resolve(args[0]);
        EvolveSettings settings = EvolveConfig.defaults(task.fitnessMetric()).read(Path.of(args[4]))
                .iterations(Integer.parseInt(args[2])).model("scripted").apiBase(args[1]).build(null);
        CostLedger ledger = new CostLedger();
        Path out = Path.of(args[3]);
        java.nio.file.Files.createDirectories(out);
        try (RecordingClient client = new RecordingClient(LlmEnsemble.create(settings.llm(), ledger, d -> { },
                k -> null), out.resolve("llm_responses.jsonl"))) {
            new EvolutionRun(task, settings, client, ledger, out, RunListener.NONE).run(args[5].equals("resume"));
        }
    }
}
