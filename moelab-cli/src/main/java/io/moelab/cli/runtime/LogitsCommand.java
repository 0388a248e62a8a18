package io.moelab.cli.runtime;

import io.moelab.cli.support.Heap;
import io.moelab.cli.support.Outputs;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.model.MoeModel;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab logits}: the model's logits for given token ids. */
@Command(name = "logits", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a Hugging Face MoE model (mixtral, qwen2_moe, qwen3_moe, olmoe; config.json + safetensors)"
                + " over token ids and write {\"logits\": [[one float per vocabulary id] per position]}.")
public final class LogitsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = "--token-ids", required = true, split = ",", paramLabel = "ID",
            description = "Token ids, comma-separated.")
    private int[] tokens;

    @Option(names = "--output", required = true, paramLabel = "OUT.json",
            description = "Where to write; - prints the JSON on stdout (the note then goes to stderr).")
    private Path output;

    @Override
    public Integer call() throws Exception {
        if (tokens.length == 0) {
            throw new InvalidInputException("--token-ids", "no token ids");
        }
        // The split drops trailing empty values, so '1,2,' would pass where '1,,2' is refused.
        for (String given : spec.commandLine().getParseResult().matchedOption("--token-ids").originalStringValues()) {
            if (given.endsWith(",")) {
                throw new InvalidInputException("--token-ids", "'" + given + "' ends with a comma (an empty id)");
            }
        }
        // Before the model runs; not over one of the model's files.
        Outputs.check("--output", output, null, null, Map.of("--model", Outputs.filesIn(model.dir())));
        float[][] logits;
        // Loaded first: a config.json that disagrees with the checkpoint (a huge num_hidden_layers or vocab_size) is
        // that, not too many token ids.
        try (MoeModel m = model.load()) {
            ModelConfig config = m.config();
            int vocab = config.vocabSize();
            for (int t : tokens) {
                if (t < 0 || t >= vocab) {
                    throw new InvalidInputException("--token-ids", "token id " + t + " outside the vocabulary [0, "
                            + vocab + ")");
                }
            }
            // A long list ended in the cache's own exception (exit 1) or in running out of memory.
            String what = "a sequence of " + Nouns.count(tokens.length, "token id");
            KvCacheSize.require("--token-ids", config, tokens.length, what);
            KvCacheSize.warnPastTrained(spec.commandLine().getErr(), "--token-ids", config, tokens.length, what);
            Heap.require("--token-ids", KvCache.bytes(config, tokens.length)
                    + (long) Float.BYTES * tokens.length * vocab, what + ", with its KV cache and " + tokens.length
                    + " x " + vocab + " logits,", "fewer token ids");
            // In passes (MoeModel.logits): one over every id held all their activations at once besides the cache
            // and the logits checked above (a wide model ran out of memory); the logits are the same.
            logits = m.logits(tokens);
        }
        try (Outputs.TextOutput text = Outputs.text(output)) {
            AtomicFiles.write(text.file(), out -> {
                Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
                w.write("{\"logits\": [");
                for (int p = 0; p < logits.length; p++) {
                    w.write(p == 0 ? "\n  [" : ",\n  [");
                    for (int i = 0; i < logits[p].length; i++) {
                        if (i > 0) {
                            w.write(',');
                        }
                        w.write(Float.toString(logits[p][i]));
                    }
                    w.write(']');
                }
                w.write("\n]}\n");
                w.flush();
            });
            text.print(spec.commandLine().getOut());
        }
        Outputs.notes(spec, output).println("wrote " + Outputs.name(output) + " ("
                + Nouns.count(logits.length, "position") + " x " + Nouns.count(logits[0].length, "logit") + ")");
        return 0;
    }
}
