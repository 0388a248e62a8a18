package io.moelab.cli.runtime;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Nouns;
import io.moelab.runtime.generate.Sampler;
import io.moelab.runtime.generate.TextStream;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.StopTokens;
import io.moelab.runtime.tokenizer.Tokenizer;
import io.moelab.runtime.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab generate}: continue a prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Continue a prompt with a Hugging Face MoE model: the model's tokenizer.json (or the built-in "
                + "byte-level tokenizer of moelab's own models), greedy at temperature 0, else temperature and "
                + "top-p sampling from a seed. Stops at the model's EOS ids (generation_config.json's eos_token_id, "
                + "else config.json's) or the tokenizer's EOS. Prints the continuation as it comes (a word or two "
                + "behind the model, where later tokens can still change the text), then tokens/s on stderr.")
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The prompt.")
    private String prompt;

    @Option(names = "--max-tokens", required = true, paramLabel = "N",
            description = "Tokens to generate at most (at least 1).")
    private int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "0 for greedy decoding (default), else the sampling temperature (finite, above 0).")
    private double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1",
            description = "Nucleus mass, in (0, 1] (default 1: every token).")
    private double topP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the draws, any whole number "
            + "(default 0).")
    private long seed;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) {
            throw new InvalidInputException("--max-tokens", "must be at least 1, got " + maxTokens);
        }
        // Each checked on its own, so the message names the option at fault (NaN and infinities included), with
        // the value as written: the sampler's own messages name the setting again and print Java's doubles.
        try {
            Sampler.requireTemperature(temperature);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("--temperature", "must be a finite number, 0 or more, got "
                    + Numbers.plain(temperature), e);
        }
        try {
            Sampler.requireTopP(topP);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("--top-p", "must be in (0, 1], got " + Numbers.plain(topP), e);
        }
        Sampler sampler = new Sampler(temperature, topP, seed);
        PrintWriter out = spec.commandLine().getOut();
        try (MoeModel m = model.load(); Tokenizer tokenizer = Tokenizers.forModel(model.dir(), m.config().vocabSize(),
                m.config().family().modelType())) {
            // The prompt with the special tokens transformers' tokenizer(prompt) adds (generate pipelines use it so):
            // a BOS only where the tokenizer adds one, and an EOS that add_eos_token appends is kept, as transformers
            // feeds it to the model (which then continues after the end of a sequence).
            List<Integer> ids = new ArrayList<>();
            for (int id : tokenizer.encodeWithSpecialTokens(prompt).all()) {
                ids.add(id);
            }
            if (ids.isEmpty()) {
                throw new InvalidInputException("--prompt", "encodes to no tokens");
            }
            // The last new token is never fed back to the model: the cache holds the prompt and all but that one.
            long positions = (long) ids.size() + maxTokens - 1;
            String run = "a prompt of " + Nouns.count(ids.size(), "token") + " plus " + maxTokens + " new ones";
            KvCacheSize.require("--max-tokens", m.config(), positions, run);
            KvCacheSize.warnPastTrained(spec.commandLine().getErr(), "--max-tokens", m.config(), positions, run);
            // transformers' stop ids (generation_config.json, else config.json), and the tokenizer's EOS as before.
            Set<Integer> stops = new HashSet<>();
            for (int id : StopTokens.of(model.dir(), m.config())) {
                stops.add(id);
            }
            tokenizer.eosId().ifPresent(stops::add);
            KvCache cache = m.newCache((int) positions);
            long start = System.nanoTime();
            // In passes (prefillInChunks): one pass over a long prompt held every token's activations at once, more
            // memory than the KV cache checked against the heap.
            int[] promptIds = ids.stream().mapToInt(Integer::intValue).toArray();
            float[] logits = m.prefillInChunks(promptIds, 0, cache, false)[0];
            long prefillEnd = System.nanoTime();
            // Printed as it comes, each piece once later tokens can no longer change it (TextStream): in all, the
            // decoding of every new token at once.
            TextStream text = new TextStream(tokenizer);
            int n = 0;
            int pos = ids.size();
            while (n < maxTokens) {
                int next = sampler.sample(logits);
                if (stops.contains(next)) {
                    break;
                }
                n++;
                String piece = text.add(next);
                if (!piece.isEmpty()) {
                    out.print(piece);
                    out.flush();
                }
                if (n < maxTokens) {
                    logits = m.forward(next, pos++, cache);
                }
            }
            long end = System.nanoTime();
            out.println(text.finish());
            out.flush();
            // The first new token comes from the prompt's logits: the decode rate is of the n - 1 forward passes after.
            String decode = n > 1 ? String.format(Locale.ROOT, " (decode %.1f tokens/s)",
                    (n - 1) / Math.max(1e-9, (end - prefillEnd) / 1e9)) : "";
            spec.commandLine().getErr().println(String.format(Locale.ROOT,
                    "%d prompt tokens at %.1f tokens/s, %d generated%s", ids.size(),
                    ids.size() / ((prefillEnd - start) / 1e9), n, decode));
        }
        return 0;
    }
}
