package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.runtime.generate.Perplexity;
import io.moelab.runtime.generate.Sampler;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * generate, perplexity and trace on a byte-level model (vocabulary 258: bytes, BOS 256, EOS 257), against the
 * runtime called directly.
 */
class TextCommandsTest {
    @TempDir
    Path dir;
    Path model;
    Path text;

    @BeforeEach
    void write() throws Exception {
        model = TinyMixtral.write(dir.resolve("model"), 258);
        text = dir.resolve("text.txt");
        Files.writeString(text, "The quick brown fox jumps over the lazy dog. Ünïcödé too.\n");
    }

    @Test
    void greedyGenerationIsTheArgmaxChain() throws Exception {
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "5");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("tokens/s");
        // The chain up to the byte tokenizer's EOS (257), special ids written as zero bytes.
        byte[] out = new byte[5];
        int n = 0;
        for (int next : greedyChain(5)) {
            if (next == 257) {
                break;
            }
            out[n++] = next < 256 ? (byte) next : 0;
        }
        assertThat(r.out().stripTrailing()).isEqualTo(new String(out, 0, n, StandardCharsets.UTF_8).stripTrailing());
        Result sampled1 = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "8",
                "--temperature", "1.0", "--top-p", "0.9", "--seed", "3");
        Result sampled2 = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "8",
                "--temperature", "1.0", "--top-p", "0.9", "--seed", "3");
        assertThat(sampled1.out()).isEqualTo(sampled2.out());
    }

    /**
     * Without --top-p and --seed, sampling uses the whole distribution (top-p 1) and seed 0, as the help says: the
     * other sampling case gave both, and defaults of top-p 0.9 or seed 1 passed. The text is the runtime's own draws
     * by a Sampler of temperature 1, top-p 1 and seed 0 (up to the EOS).
     */
    @Test
    void samplingWithoutTopPOrSeedUsesTheWholeDistributionAndSeedZero() throws Exception {
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "8",
                "--temperature", "1.0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        int[] chain = sampledChain(8, new Sampler(1.0, 1.0, 0));
        // As in the greedy case: up to the EOS (257), special ids written as zero bytes.
        byte[] out = new byte[chain.length];
        int n = 0;
        for (int next : chain) {
            if (next == 257) {
                break;
            }
            out[n++] = next < 256 ? (byte) next : 0;
        }
        assertThat(r.out().stripTrailing()).isEqualTo(new String(out, 0, n, StandardCharsets.UTF_8).stripTrailing());
        // Another nucleus or seed draws another text, so the comparison above tells them apart.
        assertThat(sampledChain(8, new Sampler(1.0, 0.9, 0))).isNotEqualTo(chain);
        assertThat(sampledChain(8, new Sampler(1.0, 1.0, 1))).isNotEqualTo(chain);
    }

    /**
     * A long sampled continuation stops at the byte tokenizer's EOS (257; the model's config names no EOS), and what
     * is printed as it comes adds up to the whole text. The seed is the first whose draws (by the runtime, here)
     * reach the EOS after text with two whitespace characters, so that pieces are printed before the end: the
     * other generations were too short to print any before the end, or to reach the EOS.
     */
    @Test
    void aLongSampledTextStopsAtTheTokenizersEosAndPrintsWhole() throws Exception {
        int seed = -1;
        int[] chain = null;
        int eos = -1;
        for (int s = 0; s < 100 && seed < 0; s++) {
            chain = sampledChain(200, new Sampler(1.0, 1.0, s));
            int[] drawn = chain;
            eos = java.util.stream.IntStream.range(0, drawn.length).filter(i -> drawn[i] == 257).findFirst()
                    .orElse(-1);
            long spaces = eos < 0 ? 0 : Arrays.stream(drawn, 0, eos).filter(t -> t < 128
                    && Character.isWhitespace(t)).count();
            seed = spaces >= 2 ? s : -1;
        }
        assertThat(seed).as("a seed that reaches the EOS after two whitespace characters").isNotNegative();
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "200",
                "--temperature", "1", "--seed", Integer.toString(seed));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(bytes(Arrays.copyOf(chain, eos)) + System.lineSeparator());
        assertThat(r.err()).contains(", " + eos + " generated");
    }

    /** The continuation of "Hi" (after BOS) for {@code n} tokens drawn by {@code sampler}, not stopping anywhere. */
    private int[] sampledChain(int n, Sampler sampler) throws Exception {
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            KvCache cache = m.newCache(3 + n);
            int[] prompt = {256, 'H', 'i'};
            float[] logits = m.prefill(prompt, 0, cache, false)[0];
            int[] chain = new int[n];
            for (int i = 0; i < n; i++) {
                chain[i] = sampler.sample(logits);
                logits = m.forward(chain[i], prompt.length + i, cache);
            }
            return chain;
        }
    }

    /** The greedy continuation of "Hi" (after BOS) for {@code n} tokens, not stopping anywhere. */
    private int[] greedyChain(int n) throws Exception {
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            KvCache cache = m.newCache(16);
            int[] prompt = {256, 'H', 'i'};
            float[] logits = null;
            for (int i = 0; i < prompt.length; i++) {
                logits = m.forward(prompt[i], i, cache);
            }
            int[] chain = new int[n];
            for (int i = 0; i < n; i++) {
                chain[i] = Sampler.argmax(logits);
                logits = m.forward(chain[i], prompt.length + i, cache);
            }
            return chain;
        }
    }

    /** Whether {@code chain[i]} occurs before position {@code i}. */
    private static boolean seen(int[] chain, int i) {
        for (int j = 0; j < i; j++) {
            if (chain[j] == chain[i]) {
                return true;
            }
        }
        return false;
    }

    /** The byte model's text of {@code ids} (BOS, EOS and ids past the bytes skipped). */
    private static String bytes(int[] ids) {
        byte[] out = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id < 256) {
                out[n++] = (byte) id;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * generate stops at every id of generation_config.json's eos_token_id, or without that file config.json's, as
     * transformers does (Qwen3 instruct models list two); it used to stop only at the tokenizer's EOS (257 here).
     */
    @Test
    void generateStopsAtEveryEosIdOfTheGenerationConfig() throws Exception {
        int[] chain = greedyChain(6);
        // The first position whose token did not come earlier in the chain, past the first: generation must end
        // right before it.
        int cut = 1;
        while (cut < chain.length && seen(chain, cut)) {
            cut++;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(cut < chain.length
                && Arrays.stream(chain, 0, cut).noneMatch(t -> t == 257), "a chain with a new token, no EOS before it");
        String expected = bytes(Arrays.copyOf(chain, cut));
        // An id the chain never reaches first, so that only a list's later entry can stop it.
        int unused = java.util.stream.IntStream.range(0, 256)
                .filter(id -> Arrays.stream(chain).noneMatch(t -> t == id)).findFirst().orElseThrow();
        Files.writeString(model.resolve("generation_config.json"),
                "{\"bos_token_id\": 256, \"eos_token_id\": [" + unused + ", " + chain[cut] + "]}");
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "6");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().stripTrailing()).isEqualTo(expected.stripTrailing());
        assertThat(r.err()).contains(", " + cut + " generated");
        // Without the generation config, config.json's list.
        Files.delete(model.resolve("generation_config.json"));
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\\{", "{\"eos_token_id\": [257, "
                + chain[cut] + "], "));
        Result fromConfig = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens",
                "6");
        assertThat(fromConfig.exitCode()).as(fromConfig.err()).isZero();
        assertThat(fromConfig.out().stripTrailing()).isEqualTo(expected.stripTrailing());
        assertThat(fromConfig.err()).contains(", " + cut + " generated");
    }

    @Test
    void aMalformedEosTokenIdIsBadInputNamingFileAndKey() throws Exception {
        Path file = model.resolve("generation_config.json");
        for (String value : new String[] {"\"257\"", "257.0", "-1", "258", "[1, 2.5]"}) {
            Files.writeString(file, "{\"eos_token_id\": " + value + "}");
            Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "2");
            assertThat(r.exitCode()).as(value).isEqualTo(2);
            assertThat(r.errLines()).as(value).singleElement().asString()
                    .startsWith("error: " + file + ": eos_token_id ");
        }
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "2");
        assertThat(r.errLines()).containsExactly("error: " + file + ": eos_token_id must be a token id or a list of "
                + "token ids, got [1,2.5]");
    }

    @Test
    void perplexityJsonMatchesTheRuntime() throws Exception {
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(), "--format",
                "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        byte[] bytes = Files.readAllBytes(text);
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = bytes[i] & 0xFF;
        }
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            Perplexity.Result expected = Perplexity.compute(m, tokens, 256, 512);
            assertThat(json.get("tokens").asLong()).isEqualTo(bytes.length);
            // Within a millionth, not bit for bit: the two computations may fall on either side of a C2
            // compilation, which moves the Vector API exp's last bits (the runtime's CompiledKernels test helper).
            org.assertj.core.data.Percentage millionth = org.assertj.core.data.Percentage.withPercentage(1e-4);
            assertThat(json.get("nll_per_token").asDouble()).isCloseTo(expected.nllPerToken(), millionth);
            assertThat(json.get("perplexity").asDouble()).isCloseTo(expected.perplexity(), millionth);
            assertThat(json.get("bits_per_byte").asDouble()).isCloseTo(expected.bitsPerByte(bytes.length), millionth);
        }
        Result table = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString());
        assertThat(table.out()).contains("perplexity", "bits per byte");
    }

    @Test
    void traceIsReadableByEplb() throws Exception {
        Path out = dir.resolve("trace.json");
        Result r = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), text.toString(),
                "--output", out.toString(), "--batch-tokens", "16");
        assertThat(r.exitCode()).as(r.err()).isZero();
        ExpertLoadTrace trace = TraceFiles.read(out);
        long tokens = 2L * Files.readAllBytes(text).length;
        assertThat(trace.layers()).isEqualTo(1);
        assertThat(trace.experts()).isEqualTo(2);
        assertThat(trace.steps()).isEqualTo((int) ((tokens + 15) / 16));
        double total = 0;
        for (int s = 0; s < trace.steps(); s++) {
            total += trace.step(s).layerTotal(0);
        }
        assertThat(total).isEqualTo(tokens); // top-1: one expert per token
    }

    @Test
    void oneNewTokenHasNoDecodeRate() {
        // The first new token comes from the prompt's logits: with one, no forward pass decoded anything (the line
        // said '1 generated at N tokens/s', timing the sampling alone).
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.errLines()).last().asString().matches("3 prompt tokens at [0-9.]+ tokens/s, [01] generated");
    }

    @Test
    void generateRefusesAKvCacheThatCannotExistNamingTheOption() {
        // TinyMixtral: one KV head of 4 dimensions, so a layer's keys (one array) hold at most 536870848 positions.
        // The last new token is never fed back: 3 + 536870847 - 1 positions (it asked for one more).
        Result tooLong = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens",
                "536870847");
        assertThat(tooLong.exitCode()).isEqualTo(2);
        assertThat(tooLong.errLines()).containsExactly("error: --max-tokens: a prompt of 3 tokens plus 536870847 new "
                + "ones needs a KV cache of 536870849 positions; this model's holds at most 536870848");
        // 32 bytes a position (keys and values, 4 floats each): past the heap long before the limit above.
        long beyondHeap = Runtime.getRuntime().maxMemory() / 32 + 1000;
        org.junit.jupiter.api.Assumptions.assumeTrue(beyondHeap < 536870845, "a heap above 16 GiB");
        Result tooBig = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens",
                Long.toString(beyondHeap));
        assertThat(tooBig.exitCode()).isEqualTo(2);
        assertThat(tooBig.errLines()).singleElement().asString()
                .startsWith("error: --max-tokens: a prompt of 3 tokens plus " + beyondHeap
                        + " new ones needs a KV cache")
                .contains("more than this JVM's heap");
    }

    @Test
    void samplingErrorsNameTheirOption() {
        Result nan = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "2",
                "--temperature", "NaN");
        assertThat(nan.exitCode()).isEqualTo(2);
        assertThat(nan.errLines()).singleElement().asString().startsWith("error: --temperature: ");
        // An infinite temperature is the temperature's fault too (it was blamed on --top-p).
        Result infinite = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens",
                "2", "--temperature", "Infinity");
        assertThat(infinite.errLines()).containsExactly(
                "error: --temperature: must be a finite number, 0 or more, got Infinity");
        Result topP = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "2",
                "--top-p", "0");
        assertThat(topP.exitCode()).isEqualTo(2);
        assertThat(topP.errLines()).singleElement().asString().startsWith("error: --top-p: ");
        // Values as written, as every other option's ("got -1.0", "got 2.147483648E9"), the option not named twice.
        String[][] refused = {
            {"--temperature", "-1", "error: --temperature: must be a finite number, 0 or more, got -1"},
            {"--top-p", "0", "error: --top-p: must be in (0, 1], got 0"},
            {"--top-p", "2147483648", "error: --top-p: must be in (0, 1], got 2147483648"},
            {"--top-p", "1.5", "error: --top-p: must be in (0, 1], got 1.5"}};
        for (String[] c : refused) {
            Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "2",
                    c[0], c[1]);
            assertThat(r.exitCode()).as(c[1]).isEqualTo(2);
            assertThat(r.errLines()).as(c[1]).containsExactly(c[2]);
            assertThat(r.out()).isEmpty();
        }
        int most = 8 * Runtime.getRuntime().availableProcessors();
        Result threads = CliRunner.run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "2",
                "--threads", Integer.toString(most + 1));
        assertThat(threads.exitCode()).isEqualTo(2);
        assertThat(threads.errLines()).singleElement().asString().startsWith("error: --threads: " + (most + 1) + " on ")
                .endsWith("at most " + most + " (8 a processor)");
    }

    @Test
    void traceSummarizesEachTextsHottestExpertAndPlotsThem() throws Exception {
        Path out = dir.resolve("short-windows.json");
        Path png = dir.resolve("heat.png");
        Result r = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                out.toString(), "--context", "5", "--batch-tokens", "7", "--plot", png.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        ExpertLoadTrace trace = TraceFiles.read(out);
        long tokens = Files.readAllBytes(text).length; // one byte a token, no BOS
        assertThat(trace.steps()).isEqualTo((int) ((tokens + 6) / 7));
        // One text: its hottest expert and share are the whole trace's, recomputed here.
        double[] perExpert = new double[trace.experts()];
        for (int s = 0; s < trace.steps(); s++) {
            for (int e = 0; e < trace.experts(); e++) {
                perExpert[e] += trace.step(s).load(0, e);
            }
        }
        int hot = perExpert[1] > perExpert[0] ? 1 : 0;
        String line = r.out().lines().filter(l -> l.strip().startsWith("text.txt")).findFirst().orElseThrow();
        assertThat(line.strip().split("\\s+", 2)[1].replaceAll("\\s+", " ")).isEqualTo(String.format(
                Locale.ROOT, "L0:e%d %.1f%%", hot, 100 * perExpert[hot] / (perExpert[0] + perExpert[1])));
        assertThat(r.out()).contains("wrote " + png);
        assertThat(Arrays.copyOf(Files.readAllBytes(png), 4)).containsExactly(0x89, 'P', 'N', 'G');
        Path badPng = dir.resolve("bad.png");
        for (String[] bad : new String[][] {
                {"--batch-tokens", "0", "error: --batch-tokens: must be at least 1, got 0"},
                {"--context", "0", "error: --context: must be at least 1, got 0"},
                {"--plot-layer", "1", "error: --plot-layer: must lie in 0..0, got 1", "--plot", badPng.toString()},
                {"--plot-layer", "0", "error: --plot-layer: picks the layer of --plot's heat map, and no --plot was "
                        + "given"}}) {
            List<String> args = new ArrayList<>(List.of("trace", "--model", model.toString(), "--text",
                    text.toString(), "--output", dir.resolve("bad.json").toString()));
            args.addAll(Arrays.asList(bad).subList(0, 2));
            args.addAll(Arrays.asList(bad).subList(3, bad.length));
            Result e = CliRunner.run(args.toArray(String[]::new));
            assertThat(e.exitCode()).as(bad[0]).isEqualTo(2);
            assertThat(e.errLines()).containsExactly(bad[2]);
            assertThat(dir.resolve("bad.json")).doesNotExist();
            assertThat(badPng).doesNotExist();
        }
    }

    /**
     * Windows of one token (--context 1, the least allowed) route each byte alone, at position 0 of a fresh cache, so
     * a text of one repeated byte sends all its tokens to that byte's expert. Four texts of four tokens, one step
     * each: the summary's hottest expert and share per text are recomputed from the written steps, ties going to the
     * lower expert, and the note counts the 16 tokens. The tests' texts had expert 0 hottest, where a summary that
     * never looked past expert 0, or took the later of two tied experts, passed; and the note's token count was not
     * read.
     */
    @Test
    void traceOfOneTokenWindowsSummarizesEachTextFromItsStep() throws Exception {
        Path probe = dir.resolve("probe.json");
        String letters = "abcdefghijklmnopqrstuvwxyz";
        Files.writeString(text, letters);
        Result p = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                probe.toString(), "--context", "1", "--batch-tokens", "1");
        assertThat(p.exitCode()).as(p.err()).isZero();
        ExpertLoadTrace routes = TraceFiles.read(probe);
        char[] byExpert = new char[2];
        for (int s = 0; s < routes.steps(); s++) {
            byExpert[routes.step(s).load(0, 1) > 0 ? 1 : 0] = letters.charAt(s);
        }
        assertThat(byExpert).as("a letter routed to each expert").doesNotContain('\0');
        char zero = byExpert[0];
        char one = byExpert[1];
        String[] contents = {"" + one + one + one + one, "" + zero + zero + zero + zero, "" + zero + one + zero + one,
            "" + one + one + one + zero};
        List<String> args = new java.util.ArrayList<>(List.of("trace", "--model", model.toString(), "--context", "1",
                "--batch-tokens", "4", "--output", dir.resolve("four.json").toString(), "--text"));
        for (int t = 0; t < contents.length; t++) {
            Path file = dir.resolve("t" + t + ".txt");
            Files.writeString(file, contents[t]);
            args.add(file.toString());
        }
        Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.getFirst()).isEqualTo("wrote " + dir.resolve("four.json")
                + ": 4 steps of up to 4 tokens (16 tokens), 1 MoE layer");
        ExpertLoadTrace trace = TraceFiles.read(dir.resolve("four.json"));
        assertThat(trace.steps()).isEqualTo(4);
        List<Integer> hottest = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
            double e0 = trace.step(t).load(0, 0);
            double e1 = trace.step(t).load(0, 1);
            int hot = e1 > e0 ? 1 : 0;
            hottest.add(hot);
            assertThat(lines.get(2 + t).strip().replaceAll("\\s+", " ")).isEqualTo(String.format(Locale.ROOT,
                    "t%d.txt L0:e%d %.1f%%", t, hot, 100 * Math.max(e0, e1) / (e0 + e1)));
        }
        // Expert 1 hottest, expert 0 hottest, a tie (expert 0) and expert 1 at 75%.
        assertThat(hottest).containsExactly(1, 0, 0, 1);
        assertThat(lines.get(4)).endsWith("L0:e0   50.0%");
        assertThat(lines.get(5)).endsWith("L0:e1   75.0%");
    }

    /**
     * The summary's shares have a decimal point whatever the default locale: under a German one (a user's
     * LANG=de_DE.UTF-8) they read "62,5%", unlike every other number the command line prints.
     */
    @Test
    void traceSummaryUsesADecimalPointInAnyLocale() throws Exception {
        Locale before = Locale.getDefault();
        Result r;
        try {
            Locale.setDefault(Locale.GERMANY);
            r = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                    dir.resolve("german.json").toString());
        } finally {
            Locale.setDefault(before);
        }
        assertThat(r.exitCode()).as(r.err()).isZero();
        String line = r.out().lines().filter(l -> l.strip().startsWith("text.txt")).findFirst().orElseThrow();
        assertThat(line.strip()).matches("text\\.txt +L0:e[01] +[0-9]{1,3}\\.[0-9]%");
    }

    /**
     * Texts with the same file name are told apart by their directories, and a text given twice is numbered: the
     * summary printed "x.txt" twice, and the plot kept one row of the two.
     */
    @Test
    void traceLabelsTellTextsOfOneNameApart() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a")).resolve("x.txt");
        Path b = Files.createDirectories(dir.resolve("b")).resolve("x.txt");
        Files.writeString(a, "the cat sat on the mat");
        Files.writeString(b, "a dog ran in the park");
        Result r = CliRunner.run("trace", "--model", model.toString(), "--text", a.toString(), b.toString(),
                a.toString(), "--output", dir.resolve("labels.json").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().lines().skip(2).map(l -> l.strip().split("\\s+")[0]))
                .containsExactly("a" + java.io.File.separator + "x.txt", "b" + java.io.File.separator + "x.txt",
                        "a" + java.io.File.separator + "x.txt");
        assertThat(r.out()).contains("x.txt (2)");
        assertThat(TraceCommand.labels(List.of(Path.of("one.txt"), Path.of("d", "two.txt"))))
                .containsExactly("one.txt", "two.txt");
        // Told apart only by their first elements: the whole paths, less the root.
        Path root = Path.of("/").toAbsolutePath();
        assertThat(TraceCommand.labels(List.of(root.resolve("p").resolve("x.txt"), root.resolve("q").resolve("x.txt"))))
                .containsExactly(Path.of("p", "x.txt").toString(), Path.of("q", "x.txt").toString());
    }

    /**
     * A text without tokens is refused naming it, as perplexity refuses one: among other texts it was summarized as
     * "L0:e0 0.0%", a hottest expert that received nothing, and drawn as an empty row.
     */
    @Test
    void traceRefusesATextWithoutTokensNamingIt() throws Exception {
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        Path out = dir.resolve("empty-trace.json");
        Result r = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), empty.toString(),
                "--output", out.toString());
        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --text: " + empty + " is empty");
        assertThat(out).doesNotExist();
        // Whitespace alone: the WordLevel tokenizer's Whitespace pre-tokenizer leaves no word.
        writeHfTokenizer(model, "null", "{}");
        Path blank = dir.resolve("blank.txt");
        Files.writeString(blank, "  \n\t\n");
        Files.writeString(text, "the cat sat on the mat.");
        Result b = CliRunner.run("trace", "--model", model.toString(), "--text", blank.toString(), text.toString(),
                "--output", out.toString());
        assertThat(b.exitCode()).as(b.out()).isEqualTo(2);
        assertThat(b.errLines()).containsExactly("error: --text: " + blank + " holds no tokens");
        assertThat(out).doesNotExist();
    }

    @Test
    void traceWindowsLongerThanTheTextAskForNoLargerCache() throws Exception {
        Path usual = dir.resolve("usual.json");
        Path huge = dir.resolve("huge.json");
        assertThat(CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                usual.toString()).exitCode()).isZero();
        Result r = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                huge.toString(), "--context", "2000000000");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(TraceFiles.read(huge).stepList()).isEqualTo(TraceFiles.read(usual).stepList());
    }

    /**
     * trace checks the longest window of all texts against the KV cache before the model reads any: it used to check
     * each window as it came to it, so a long last text was refused only after every earlier text had run. Here the
     * model's lm_head holds NaN, which any forward pass reports; the window must be refused first.
     */
    @Test
    void traceRefusesALongLastTextBeforeReadingAnyText() throws Exception {
        // Heads of 32768 dimensions: a layer's keys (one array) hold at most 65472 positions.
        Path wide = TinyMixtral.write(dir.resolve("wide"), 258, 32768);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(wide.resolve("model.safetensors").toFile(),
                "rw")) {
            f.seek(f.length() - 4); // lm_head.weight's last element, the file's last tensor
            f.write(new byte[] {0, 0, (byte) 0xc0, 0x7f}); // NaN, little-endian
        }
        Path longText = dir.resolve("long.txt");
        Files.writeString(longText, "ab".repeat(40_000)); // 80000 byte tokens
        Path out = dir.resolve("trace.json");
        Result r = CliRunner.run("trace", "--model", wide.toString(), "--text", text.toString(), longText.toString(),
                "--output", out.toString(), "--context", "70000");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --context: a window of 70000 tokens needs a KV cache of "
                + "70000 positions; this model's holds at most 65472");
        assertThat(out).doesNotExist();
    }

    /**
     * perplexity's windows need a KV cache as trace's do: one that cannot exist is refused naming --context (it used to
     * end in the cache's IllegalArgumentException or running out of heap, exit 1), and a --context longer than the
     * text asks for no larger cache than the text's.
     */
    @Test
    void perplexityRefusesAWindowThatNoKvCacheHolds() throws Exception {
        // Heads of 32768 dimensions: a layer's keys (one array) hold at most 65472 positions.
        Path wide = TinyMixtral.write(dir.resolve("wide"), 258, 32768);
        Path longText = dir.resolve("long.txt");
        Files.writeString(longText, "ab".repeat(40_000)); // 80000 byte tokens, after BOS
        Result r = CliRunner.run("perplexity", "--model", wide.toString(), "--text", longText.toString(), "--context",
                "70000");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --context: a window of 69999 positions needs a KV cache of "
                + "69999 positions; this model's holds at most 65472");
        Result huge = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(), "--context",
                "2000000000", "--format", "json");
        assertThat(huge.exitCode()).as(huge.err()).isZero();
        JsonNode one = JsonMapper.builder().build().readTree(huge.out());
        JsonNode usual = JsonMapper.builder().build().readTree(CliRunner.run("perplexity", "--model",
                model.toString(), "--text", text.toString(), "--format", "json").out());
        // One window either way; within a millionth, as the Vector API's exp may be compiled in between.
        assertThat(one.get("tokens").asLong()).isEqualTo(usual.get("tokens").asLong());
        assertThat(one.get("nll_per_token").asDouble()).isCloseTo(usual.get("nll_per_token").asDouble(),
                org.assertj.core.data.Percentage.withPercentage(1e-4));
    }

    /**
     * A Qwen3-MoE config with experts but no MoE layer (here decoder_sparse_step 2 over one layer) has nothing to
     * trace: it is refused as a model without experts is. It used to fail on --plot-layer ("must lie in 0..-1, got
     * 0"), an option not even given.
     */
    @Test
    void traceRefusesAModelWhoseLayersAreAllDense() throws Exception {
        Path dense = Files.createDirectories(dir.resolve("dense"));
        Files.writeString(dense.resolve("config.json"), """
                {"model_type": "qwen3_moe", "vocab_size": 258, "hidden_size": 8, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4, "intermediate_size": 6,
                 "moe_intermediate_size": 6, "num_experts": 2, "num_experts_per_tok": 1, "decoder_sparse_step": 2}
                """);
        java.util.Random r = new java.util.Random(2);
        io.moelab.runtime.safetensors.SafetensorsWriter w = new io.moelab.runtime.safetensors.SafetensorsWriter();
        String l = "model.layers.0.";
        TinyMixtral.add(w, r, "model.embed_tokens.weight", 258, 8);
        TinyMixtral.add(w, r, l + "input_layernorm.weight", 8);
        TinyMixtral.add(w, r, l + "post_attention_layernorm.weight", 8);
        TinyMixtral.add(w, r, l + "self_attn.q_proj.weight", 8, 8);
        TinyMixtral.add(w, r, l + "self_attn.k_proj.weight", 4, 8);
        TinyMixtral.add(w, r, l + "self_attn.v_proj.weight", 4, 8);
        TinyMixtral.add(w, r, l + "self_attn.o_proj.weight", 8, 8);
        TinyMixtral.add(w, r, l + "self_attn.q_norm.weight", 4);
        TinyMixtral.add(w, r, l + "self_attn.k_norm.weight", 4);
        TinyMixtral.add(w, r, l + "mlp.gate_proj.weight", 6, 8);
        TinyMixtral.add(w, r, l + "mlp.up_proj.weight", 6, 8);
        TinyMixtral.add(w, r, l + "mlp.down_proj.weight", 8, 6);
        TinyMixtral.add(w, r, "model.norm.weight", 8);
        TinyMixtral.add(w, r, "lm_head.weight", 258, 8);
        w.write(dense.resolve("model.safetensors"));
        // The model itself runs.
        assertThat(CliRunner.run("generate", "--model", dense.toString(), "--prompt", "Hi", "--max-tokens", "2")
                .exitCode()).isZero();
        Path out = dir.resolve("dense-trace.json");
        Result r2 = CliRunner.run("trace", "--model", dense.toString(), "--text", text.toString(), "--output",
                out.toString());
        assertThat(r2.exitCode()).isEqualTo(2);
        assertThat(r2.errLines()).containsExactly("error: --model: " + dense + " has no MoE layers");
        assertThat(out).doesNotExist();
    }

    /**
     * A WordLevel tokenizer.json over the byte model's ids ([UNK]=0, &lt;s&gt;=1, &lt;/s&gt;=2, the=3, cat=4,
     * sat=5, on=6, mat=7, .=8, &lt;|endoftext|&gt;=12) with {@code postProcessor}, and {@code config} as its
     * tokenizer_config.json.
     */
    private static void writeHfTokenizer(Path dir, String postProcessor, String config) throws Exception {
        StringBuilder added = new StringBuilder();
        String[][] tokens = {{"0", "[UNK]"}, {"1", "<s>"}, {"2", "</s>"}, {"12", "<|endoftext|>"}};
        for (String[] t : tokens) {
            added.append(added.isEmpty() ? "" : ", ").append("{\"id\": ").append(t[0]).append(", \"content\": \"")
                    .append(t[1]).append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                    + "\"normalized\": false, \"special\": true}");
        }
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [%s],
                 "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": %s, "decoder": null,
                 "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "<s>": 1, "</s>": 2,
                   "the": 3, "cat": 4, "sat": 5, "on": 6, "mat": 7, ".": 8, "<|endoftext|>": 12}}}
                """.formatted(added, postProcessor));
        Files.writeString(dir.resolve("tokenizer_config.json"), config);
    }

    /**
     * perplexity's windows are 512 tokens unless --context says otherwise, as its help says: the other tests' text is
     * shorter than one window, where any window of 60 tokens or more gives the same result, and a default of 256
     * passed them. Over 1200 byte tokens the default is checked against windows of 512 computed by the runtime, and
     * windows of 256 are shown to give another result.
     */
    @Test
    void perplexityWindowsAre512TokensByDefault() throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 1200; i++) {
            b.append("line ").append(i).append(": the quick brown fox jumps over the lazy dog.\n");
        }
        Path longText = dir.resolve("long.txt");
        Files.writeString(longText, b.substring(0, 1200));
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", longText.toString(),
                "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        double nll = JsonMapper.builder().build().readTree(r.out()).get("nll_per_token").asDouble();
        int[] tokens = new int[1200];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = b.charAt(i);
        }
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            double at512 = Perplexity.compute(m, tokens, 256, 512).nllPerToken();
            double at256 = Perplexity.compute(m, tokens, 256, 256).nllPerToken();
            org.assertj.core.data.Percentage millionth = org.assertj.core.data.Percentage.withPercentage(1e-4);
            // The tiny random model is near uniform, so the windows move the result little (about 1e-4 of it), but a
            // hundred times the tolerance below.
            assertThat(at256).isNotCloseTo(at512, org.assertj.core.data.Percentage.withPercentage(1e-3));
            assertThat(nll).isCloseTo(at512, millionth);
        }
    }

    /**
     * trace reads its texts in windows of 512 tokens unless --context says otherwise: the other traces' texts are
     * shorter than a window, and a default of 256 passed them. Over 1200 byte tokens the trace without --context
     * equals the one with --context 512, step for step, and windows of 256 route some tokens elsewhere.
     */
    @Test
    void traceWindowsAre512TokensByDefault() throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 1200; i++) {
            b.append("line ").append(i).append(": the quick brown fox jumps over the lazy dog.\n");
        }
        Path longText = dir.resolve("long.txt");
        Files.writeString(longText, b.substring(0, 1200));
        List<List<Object>> traces = new java.util.ArrayList<>();
        for (String[] context : new String[][] {{}, {"--context", "512"}, {"--context", "256"}}) {
            Path out = dir.resolve("trace" + traces.size() + ".json");
            List<String> args = new java.util.ArrayList<>(List.of("trace", "--model", model.toString(), "--text",
                    longText.toString(), "--output", out.toString(), "--batch-tokens", "100"));
            args.addAll(List.of(context));
            Result r = CliRunner.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as(r.err()).isZero();
            ExpertLoadTrace trace = TraceFiles.read(out);
            List<Object> steps = new java.util.ArrayList<>();
            for (int s = 0; s < trace.steps(); s++) {
                steps.add(trace.step(s));
            }
            assertThat(steps).hasSize(12);
            traces.add(steps);
        }
        assertThat(traces.get(0)).isEqualTo(traces.get(1));
        assertThat(traces.get(2)).isNotEqualTo(traces.get(1));
    }

    private JsonNode perplexityJson() throws Exception {
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(), "--format",
                "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        return JsonMapper.builder().build().readTree(r.out());
    }

    private void assertPerplexity(JsonNode json, int[] tokens, int bos) {
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            Perplexity.Result expected = Perplexity.compute(m, tokens, bos, 512);
            assertThat(json.get("tokens").asLong()).isEqualTo(expected.tokens());
            assertThat(json.get("nll_per_token").asDouble()).isCloseTo(expected.nllPerToken(),
                    org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
    }

    /**
     * A Qwen-style tokenizer whose config names a bos_token but whose ByteLevel post-processor adds none:
     * transformers' tokenizer(text) gives the text's ids alone, so perplexity scores every token but the first and
     * generate's prompt has no BOS. moelab used to prepend the named &lt;|endoftext|&gt; (12) to both.
     */
    @Test
    void aTokenizerThatAddsNoBosGetsNone() throws Exception {
        writeHfTokenizer(model, """
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""", """
                {"tokenizer_class": "Qwen2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}""");
        Files.writeString(text, "the cat sat on the mat .\n");
        assertPerplexity(perplexityJson(), new int[] {3, 4, 5, 6, 3, 7, 8}, -1);
        assertThat(perplexityJson().get("tokens").asLong()).isEqualTo(6);
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "the cat", "--max-tokens", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("2 prompt tokens");
    }

    /**
     * Without a BOS the text's first token is only conditioned on, so bits per byte counts the bytes after it: the
     * UTF-8 bytes of the scored text, as the total NLL is of the scored tokens. It used to divide by every byte of
     * the text, the first token's included, which read low (here 25 bytes where 22 are scored).
     */
    @Test
    void bitsPerByteCountsOnlyTheScoredTextsBytes() throws Exception {
        writeHfTokenizer(model, """
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""", """
                {"tokenizer_class": "Qwen2Tokenizer", "bos_token": null, "eos_token": "<|endoftext|>"}""");
        Files.writeString(text, "the cat sat on the mat .\n");
        JsonNode json = perplexityJson();
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            Perplexity.Result r = Perplexity.compute(m, new int[] {3, 4, 5, 6, 3, 7, 8}, -1, 512);
            // 25 bytes, less the 3 of "the".
            assertThat(json.get("bits_per_byte").asDouble()).isCloseTo(r.totalNll() / Math.log(2) / 22,
                    org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
        // A byte model without BOS (vocabulary 257): the first byte is unscored.
        Path bytesModel = TinyMixtral.write(dir.resolve("no-bos"), 257);
        Path unicode = dir.resolve("unicode.txt");
        Files.writeString(unicode, "\u00dcn\u00efc\u00f6d\u00e9 text");
        byte[] bytes = Files.readAllBytes(unicode);
        Result out = CliRunner.run("perplexity", "--model", bytesModel.toString(), "--text", unicode.toString(),
                "--format", "json");
        assertThat(out.exitCode()).as(out.err()).isZero();
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = bytes[i] & 0xFF;
        }
        try (MoeModel m = MoeModel.load(bytesModel, WeightFormat.STORED)) {
            Perplexity.Result r = Perplexity.compute(m, tokens, -1, 512);
            assertThat(r.tokens()).isEqualTo(bytes.length - 1);
            assertThat(JsonMapper.builder().build().readTree(out.out()).get("bits_per_byte").asDouble())
                    .isCloseTo(r.totalNll() / Math.log(2) / (bytes.length - 1),
                            org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
        // One word and an appended EOS, no BOS: only the EOS is scored, over no byte; refused, not infinite.
        writeHfTokenizer(model, "null", """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": false, "add_eos_token": true}""");
        Files.writeString(text, "the");
        Result refused = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString());
        assertThat(refused.exitCode()).as(refused.err()).isEqualTo(2);
        assertThat(refused.errLines()).containsExactly("error: --text: " + text + " has no bytes after its first "
                + "token (without a BOS token the first is not scored)");
        assertThat(refused.out()).isEmpty();
    }

    /** A Llama-class tokenizer_config.json that adds BOS and EOS. */
    private static final String LLAMA_WITH_EOS = """
            {"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": true,
             "bos_token": "<s>", "eos_token": "</s>"}""";

    /**
     * A Llama-class config with add_eos_token true: transformers' template is "&lt;s&gt; $A &lt;/s&gt;", so the text
     * is scored after BOS with its EOS scored too, and generate's prompt ends in EOS as transformers feeds it.
     */
    @Test
    void addEosTokenAppendsAScoredEos() throws Exception {
        writeHfTokenizer(model, "null", LLAMA_WITH_EOS);
        Files.writeString(text, "the cat sat on the mat .\n");
        assertPerplexity(perplexityJson(), new int[] {3, 4, 5, 6, 3, 7, 8, 2}, 1);
        assertThat(perplexityJson().get("tokens").asLong()).isEqualTo(8);
        Result r = CliRunner.run("generate", "--model", model.toString(), "--prompt", "the cat", "--max-tokens", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("4 prompt tokens");
    }

    /**
     * A BOS of id 0 (here [UNK]'s id, named as bos_token) is a BOS: it opens every window, every text token is scored
     * over every byte, and the longest window is the text's 7 tokens (BOS at position 0, the last target only
     * predicted). The tests' BOS ids were 1 and 256 only. The config says max_position_embeddings 4, so the warning
     * names the window's length; --context 5 feeds positions 0 to 3, within them; --context 2, the shortest window,
     * scores each token after BOS alone.
     */
    @Test
    void aBosOfIdZeroOpensEveryWindow() throws Exception {
        writeHfTokenizer(model, "null", """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": false,
                 "bos_token": "[UNK]", "eos_token": "</s>"}""");
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"rope_theta\": 10000",
                "\"rope_theta\": 10000, \"max_position_embeddings\": 4"));
        Files.writeString(text, "the cat sat on the mat .\n");
        int[] tokens = {3, 4, 5, 6, 3, 7, 8};
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            for (int context : new int[] {512, 5, 2}) {
                Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(),
                        "--format", "json", "--context", Integer.toString(context));
                assertThat(r.exitCode()).as(r.err()).isZero();
                assertThat(r.errLines()).as("context %d", context).isEqualTo(context < 512 ? List.of() : List.of(
                        "warning: the longest window needs 7 positions, more than this model's max_position_embeddings"
                        + " 4 (config.json): it was not trained on positions past that and may predict worse there "
                        + "(lower --context)"));
                Perplexity.Result expected = Perplexity.compute(m, tokens, 0, context);
                JsonNode json = JsonMapper.builder().build().readTree(r.out());
                assertThat(json.get("tokens").asLong()).isEqualTo(7);
                assertThat(json.get("nll_per_token").asDouble()).isCloseTo(expected.nllPerToken(),
                        org.assertj.core.data.Percentage.withPercentage(1e-4));
                // Every one of the text's 25 bytes is scored.
                assertThat(json.get("bits_per_byte").asDouble()).isCloseTo(expected.totalNll() / Math.log(2) / 25,
                        org.assertj.core.data.Percentage.withPercentage(1e-4));
            }
        }
    }

    /**
     * A text that is not empty but leaves nothing to score is refused naming the file, one line, exit 2: blanks
     * that the tokenizer drops leave BOS alone, and without BOS one word is only conditioned on. Neither refusal had
     * run in a test.
     */
    @Test
    void aTextWithNothingToScoreIsOneLineExitTwo() throws Exception {
        writeHfTokenizer(model, "null", """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": false,
                 "bos_token": "<s>", "eos_token": "</s>"}""");
        Files.writeString(text, " \n\t ");
        Result blank = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString());
        assertThat(blank.exitCode()).as(blank.err()).isEqualTo(2);
        assertThat(blank.errLines()).containsExactly("error: --text: " + text + " holds no tokens");
        assertThat(blank.out()).isEmpty();
        writeHfTokenizer(model, """
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""", """
                {"tokenizer_class": "Qwen2Tokenizer", "bos_token": null, "eos_token": "<|endoftext|>"}""");
        Files.writeString(text, "cat");
        Result one = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString());
        assertThat(one.exitCode()).as(one.err()).isEqualTo(2);
        assertThat(one.errLines()).containsExactly("error: --text: " + text + " holds fewer than two tokens (without "
                + "a BOS token the first is not scored)");
        assertThat(one.out()).isEmpty();
    }

    /**
     * An empty text is refused naming the file: with a tokenizer that appends EOS it used to score that one token
     * against zero bytes and print an infinite bits per byte.
     */
    @Test
    void anEmptyTextIsOneLineExitTwo() throws Exception {
        writeHfTokenizer(model, "null", LLAMA_WITH_EOS);
        Files.writeString(text, "");
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString(), "--format",
                "json");
        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --text: " + text + " is empty");
        assertThat(r.out()).isEmpty();
    }

    /**
     * A model that predicts a text terribly (lm_head scaled so that logits lie thousands apart) has a mean NLL past
     * 709.78 nats, whose exponential overflows a double. The JSON perplexity is then null, still a JSON number or
     * null for every reader; it was the string "Infinity", which json.load and jq read as text. The other keys stay
     * numbers, the NLL and bits per byte being finite.
     */
    @Test
    void aPerplexityPastTheDoubleRangeIsNullInJson() throws Exception {
        Path bad = TinyMixtral.write(dir.resolve("bad"), 258, 4, 10_000);
        Result r = CliRunner.run("perplexity", "--model", bad.toString(), "--text", text.toString(), "--format",
                "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        assertThat(json.propertyNames()).containsExactly("tokens", "nll_per_token", "perplexity", "bits_per_byte");
        assertThat(json.get("nll_per_token").isNumber()).as(r.out()).isTrue();
        assertThat(json.get("nll_per_token").asDouble()).isGreaterThan(Math.log(Double.MAX_VALUE));
        assertThat(json.get("perplexity").isNull()).as(r.out()).isTrue();
        assertThat(json.get("bits_per_byte").isNumber()).as(r.out()).isTrue();
        // The table still says Infinity.
        Result table = CliRunner.run("perplexity", "--model", bad.toString(), "--text", text.toString());
        assertThat(table.out()).contains("perplexity      Infinity");
    }

    /** A tokenizer_config.json whose add_bos_token is not a boolean: one line naming the file and key, exit 2. */
    @Test
    void aBadAddBosTokenIsOneLineNamingTheFile() throws Exception {
        writeHfTokenizer(model, "null", "{\"add_bos_token\": \"yes\"}");
        for (String[] args : new String[][] {
                {"perplexity", "--model", model.toString(), "--text", text.toString()},
                {"generate", "--model", model.toString(), "--prompt", "the cat", "--max-tokens", "1"}}) {
            Result r = CliRunner.run(args);
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.errLines()).containsExactly("error: " + model.resolve("tokenizer_config.json")
                    + ": add_bos_token: expected true, false or null, got \"yes\"");
        }
    }

    /**
     * A text past the largest byte array (2^31 - 9 bytes) is refused naming it and its size, before the model loads:
     * reading it used to end in "out of memory ... give it more with MOELAB_JAVA_OPTS=-Xmx", exit 1, which no heap
     * could help. A sparse file: nothing is written.
     */
    @Test
    void aTextPastTheLargestArrayIsOneLineExitTwo() throws Exception {
        Path huge = dir.resolve("huge.txt");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(3L << 30);
        }
        String expected = "error: --text: " + huge + " is too large (3221225472 bytes; a text can have at most "
                + "2147483639)";
        Result p = CliRunner.run("perplexity", "--model", model.toString(), "--text", huge.toString());
        assertThat(p.exitCode()).as(p.err()).isEqualTo(2);
        assertThat(p.errLines()).containsExactly(expected);
        Path out = dir.resolve("trace.json");
        Result t = CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), huge.toString(),
                "--output", out.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(2);
        assertThat(t.errLines()).containsExactly(expected);
        assertThat(out).doesNotExist();
    }

    @Test
    void missingTextIsOneLineExitTwo() {
        Result r = CliRunner.run("perplexity", "--model", model.toString(), "--text",
                dir.resolve("nope.txt").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        // The reason in words: the file system's message for a missing file is the bare path, which read
        // "cannot read X: X".
        assertThat(r.errLines()).containsExactly("error: --text: cannot read " + dir.resolve("nope.txt")
                + ": no such file or directory");
    }
}
