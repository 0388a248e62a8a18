package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * trace's steps as docs/RUNTIME.md states them, against the routing the runtime reports: each text a separate
 * sequence in windows of --context tokens, steps of --batch-tokens tokens running on across windows and texts.
 */
class TraceStepsTest {
    @TempDir
    Path dir;

    @Test
    void stepsRunOnAcrossWindowsAndTextsEachTextItsOwnSequence() throws Exception {
        Path model = TinyMixtral.write(dir.resolve("model"), 258);
        List<String> contents = List.of("The quick brown fox jumps.", "abc", "Over the lazy dog, twice over.");
        List<String> args = new ArrayList<>(List.of("trace", "--model", model.toString(), "--text"));
        for (int t = 0; t < contents.size(); t++) {
            Path text = dir.resolve("t" + t + ".txt");
            Files.writeString(text, contents.get(t));
            args.add(text.toString());
        }
        int context = 5;
        for (int batch : new int[] {1, 7, 1000}) {
            // Expected: each token's expert, each window of each text run alone on a fresh cache, the tokens then
            // cut into steps of `batch` in the order read.
            List<Integer> experts = new ArrayList<>();
            try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
                m.routingListener((layer, chosen) -> experts.add(chosen[0]));
                for (String c : contents) {
                    byte[] bytes = c.getBytes(StandardCharsets.UTF_8);
                    for (int start = 0; start < bytes.length; start += context) {
                        int[] window = new int[Math.min(context, bytes.length - start)];
                        for (int i = 0; i < window.length; i++) {
                            window[i] = bytes[start + i] & 0xFF;
                        }
                        m.logits(window);
                    }
                }
            }
            List<List<Double>> expected = new ArrayList<>();
            for (int s = 0; s < experts.size(); s += batch) {
                double[] counts = new double[2];
                for (int e : experts.subList(s, Math.min(experts.size(), s + batch))) {
                    counts[e]++;
                }
                expected.add(List.of(counts[0], counts[1]));
            }
            Path out = dir.resolve("trace-" + batch + ".json");
            List<String> run = new ArrayList<>(args);
            run.addAll(List.of("--output", out.toString(), "--batch-tokens", Integer.toString(batch), "--context",
                    Integer.toString(context)));
            Result r = CliRunner.run(run.toArray(String[]::new));
            assertThat(r.exitCode()).as(r.err()).isZero();
            ExpertLoadTrace trace = TraceFiles.read(out);
            List<List<Double>> actual = new ArrayList<>();
            for (int s = 0; s < trace.steps(); s++) {
                actual.add(List.of(trace.step(s).load(0, 0), trace.step(s).load(0, 1)));
            }
            assertThat(actual).as("--batch-tokens " + batch).isEqualTo(expected);
            // Both experts in use, so the check tells one from the other.
            assertThat(experts).contains(0, 1);
        }
    }
}
