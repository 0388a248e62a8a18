package io.moelab.cli.runtime;

import io.moelab.cli.support.Choices;
import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Json;
import io.moelab.cli.support.Progress;
import io.moelab.eplb.InvalidInputException;
import io.moelab.runtime.generate.Perplexity;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.tokenizer.Tokenizer;
import io.moelab.runtime.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab perplexity}: how well a model predicts a text. */
@Command(name = "perplexity", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Score a text: tokens, mean negative log-likelihood per token (nats), perplexity and bits per "
                + "byte of the scored UTF-8 text, in windows of --context tokens (each opened by BOS when the "
                + "tokenizer adds one to a text, as transformers does, so every token after it is scored; otherwise "
                + "by the token before its first, so every token but the text's first is).")
public final class PerplexityCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text file; - reads stdin.")
    private Path text;

    @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
            description = "Output: a table or one JSON object (default: table).")
    private String format;

    @Option(names = "--context", paramLabel = "N", defaultValue = "512",
            description = "Window length, at least 2: a window opened by its first token scores the next "
                    + "(default 512; the model's max_position_embeddings where that is smaller).")
    private int context;

    @Override
    public Integer call() throws Exception {
        String format = Choices.require("--format", this.format, "table", "json");
        if (context < 2) {
            throw new InvalidInputException("--context", "must be at least 2, got " + context);
        }
        model.dir(); // refuses --model - before standard input is read for --text
        String content = ModelText.read(text, "--text");
        if (content.isEmpty()) {
            // A tokenizer that adds EOS would give one scored token and no bytes: bits per byte infinite.
            throw new InvalidInputException("--text", Inputs.name(text) + " is empty");
        }
        Perplexity.Result r;
        long bytes;
        try (MoeModel m = model.load(); Tokenizer tokenizer = Tokenizers.forModel(model.dir(), m.config().vocabSize(),
                m.config().family().modelType())) {
            // The ids transformers' tokenizer(text) gives. A single id added before the text is the BOS that opens
            // every window; otherwise (none, or an empty text's added ids) all are scored but the first. An EOS the
            // tokenizer appends is scored, as transformers scores it.
            Tokenizer.Encoded encoded = tokenizer.encodeWithSpecialTokens(content);
            int bos = encoded.prefix().length == 1 ? encoded.prefix()[0] : -1;
            int[] all = encoded.all();
            int[] tokens = bos >= 0 ? Arrays.copyOfRange(all, 1, all.length) : all;
            // Without BOS the first token is only conditioned on, so a second one is needed to score anything.
            if (tokens.length < (bos >= 0 ? 1 : 2)) {
                throw new InvalidInputException("--text", Inputs.name(text) + (bos >= 0 ? " holds no tokens"
                        : " holds fewer than two tokens (without a BOS token the first is not scored)"));
            }
            // Bits per byte is of the scored text: without BOS, the bytes through the first token, which only
            // conditions the rest, are left out (added ids before the text cover none of its bytes). Where only an
            // appended EOS is left to score, no byte is: refused rather than printed as an infinite rate.
            bytes = content.getBytes(StandardCharsets.UTF_8).length;
            if (bos < 0 && encoded.prefix().length == 0) {
                bytes -= tokenizer.bytesThroughFirstToken(content);
            }
            if (bytes <= 0) {
                throw new InvalidInputException("--text", Inputs.name(text) + " has no bytes after its first token "
                        + "(without a BOS token the first is not scored)");
            }
            // The longest window's cache: BOS or the conditioning token, then the targets but the last. A --context
            // longer than the text asks for no more; one that cannot exist is bad input, as in trace and generate.
            // The default follows max_position_embeddings down to 2 at least, the shortest window that scores a token
            // (it feeds position 0 alone): on a model of one position it fell to 1, an internal error (exit 1).
            context = Math.max(2, KvCacheSize.context(spec, context, m.config()));
            int window = (int) Math.min(context - 1L, tokens.length - (bos >= 0 ? 0 : 1));
            KvCacheSize.require("--context", m.config(), window, "a window of " + window + " positions");
            KvCacheSize.warnPastTrained(spec.commandLine().getErr(), "--context", m.config(), window,
                    "the longest window");
            try (Progress progress = Progress.start("perplexity", tokens.length - (bos >= 0 ? 0 : 1))) {
                r = Perplexity.compute(m, tokens, bos, context, progress::stepTo);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (format.equals("json")) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("tokens", r.tokens());
            json.put("nll_per_token", r.nllPerToken());
            // Past 709.78 nats a token e^nll overflows a double; JSON has no infinity, and Jackson's "Infinity"
            // string read as text where a number belongs. null says there is no such number.
            double perplexity = r.perplexity();
            json.put("perplexity", Double.isFinite(perplexity) ? perplexity : null);
            json.put("bits_per_byte", r.bitsPerByte(bytes));
            out.println(Json.write(json));
        } else {
            out.println(String.format(Locale.ROOT, "tokens          %d%nnll per token   %.4f nats%n"
                    + "perplexity      %s%nbits per byte   %.4f", r.tokens(), r.nllPerToken(),
                    perplexity(r.perplexity()), r.bitsPerByte(bytes)));
        }
        out.flush();
        return 0;
    }

    /**
     * A perplexity for the table: three decimals, or four significant digits in scientific notation from a million
     * on, where a model that predicts badly (351 nats a token) printed 153 digits.
     */
    static String perplexity(double value) {
        return value < 1e6 ? String.format(Locale.ROOT, "%.3f", value) : String.format(Locale.ROOT, "%.3e", value);
    }
}
