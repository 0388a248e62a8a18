package io.moelab.evolve.llm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.llm.LlmException.Kind;
import java.io.IOException;
import java.io.Serial;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Chat completions from one model behind an OpenAI-compatible {@code /chat/completions} endpoint (OpenAI,
 * Gemini's OpenAI-compatible endpoint, vLLM, Ollama, llama.cpp server). Thread-safe.
 *
 * <p>Transient failures (HTTP 429, 408 and 5xx, timeouts, I/O errors, bodies that are not a chat completion)
 * are retried up to {@link LlmSettings#retries()} times with exponential back-off from
 * {@link LlmSettings#retryDelay()}, doubled per retry, with up to 10% deterministic jitter, capped at
 * {@link LlmSettings#maxRetryDelay()}; a {@code Retry-After} header in seconds replaces the back-off (still
 * capped). Other 4xx answers fail at once with {@link Kind#CLIENT_ERROR}, and so does an answer whose body is over
 * 16 MiB, with {@link Kind#MALFORMED_RESPONSE} (its bytes so far dropped). Each successful call is added to the
 * {@link CostLedger}; no request is sent once the ledger has reached the budget.
 *
 * <p>The API key only ever goes into the {@code Authorization} header: not into messages, {@code toString} or
 * files.
 */
public final class OpenAiCompatibleClient implements LlmClient {
    /**
     * Lenient about a repeated key, unlike the run's own files: a response is a provider's output, read as other
     * clients read it (the last value); refusing would fail iterations over a quirk of a server moelab does not
     * control.
     */
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int SNIPPET = 200;
    /**
     * The most bytes read of one answer (16 MiB): far above any chat completion (max_tokens of text, escaped), and
     * small enough that a server or proxy sending without end cannot run the run's heap out.
     */
    static final long MAX_ANSWER_BYTES = 16L << 20;

    private final LlmModel model;
    private final LlmSettings settings;
    private final CostLedger ledger;
    private final Sleeper sleeper;
    private final String apiKey;
    private final URI uri;
    private final HttpClient http;
    private final long maxAnswerBytes;

    /**
     * A client for one model.
     *
     * @param model    the model
     * @param settings timeouts, retries, budget and sampling parameters
     * @param ledger   where successful calls are added, and whose total is checked against the budget
     * @param sleeper  waits between retries ({@link Sleeper#SYSTEM} in production)
     * @param env      reads the API key variable ({@code System::getenv} in production)
     * @throws InvalidInputException if the model's key variable is unset or blank, or the URL is invalid
     */
    public OpenAiCompatibleClient(
            LlmModel model, LlmSettings settings, CostLedger ledger, Sleeper sleeper, Function<String, String> env) {
        this(model, settings, ledger, sleeper, env, MAX_ANSWER_BYTES);
    }

    /** Same, with another cap on an answer's bytes (tests use a small one). */
    OpenAiCompatibleClient(LlmModel model, LlmSettings settings, CostLedger ledger, Sleeper sleeper,
            Function<String, String> env, long maxAnswerBytes) {
        this.model = Objects.requireNonNull(model, "model");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        Objects.requireNonNull(env, "env");
        if (maxAnswerBytes < 1) {
            throw new IllegalArgumentException("maxAnswerBytes must be positive, got " + maxAnswerBytes);
        }
        this.maxAnswerBytes = maxAnswerBytes;
        if (model.apiKeyEnv() != null) {
            String key = env.apply(model.apiKeyEnv());
            if (key == null || key.isBlank()) {
                throw new InvalidInputException(model.apiKeyEnv(), "environment variable is not set or blank; model "
                        + model.name() + " needs its API key there");
            }
            this.apiKey = key.strip();
        } else {
            this.apiKey = null;
        }
        String url = model.chatCompletionsUrl();
        try {
            this.uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new InvalidInputException("llm.models[" + model.name() + "].api_base", "not a valid URL: " + url, e);
        }
        if (uri.getHost() == null) {
            throw new InvalidInputException("llm.models[" + model.name() + "].api_base", "no host in " + url);
        }
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.timeout())
                .build(); // redirects are not followed: the key must not travel to another host
    }

    /** The model this client calls. */
    public LlmModel model() {
        return model;
    }

    @Override
    public Completion complete(List<ChatMessage> messages, int iteration) throws LlmException {
        Objects.requireNonNull(messages, "messages");
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(requestBody(messages, iteration)));
        if (apiKey != null) {
            rb.header("Authorization", "Bearer " + apiKey);
        }
        HttpRequest request = rb.build();
        int maxAttempts = settings.retries() + 1;
        LlmException last = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            double spent = ledger.totalUsd();
            if (spent >= settings.budgetUsd()) {
                // As the replay's message: amounts with a decimal point in any locale.
                throw new LlmException(Kind.BUDGET_EXHAUSTED, String.format(java.util.Locale.ROOT,
                        "model %s: budget of $%.4f reached ($%.4f spent)", model.name(), settings.budgetUsd(), spent));
            }
            Duration retryAfter = null;
            try {
                HttpResponse<String> response = send(request);
                int status = response.statusCode();
                String body = response.body() == null ? "" : response.body();
                if (status >= 200 && status < 300) {
                    return parse(body, messages, attempt);
                }
                last = statusError(status, body);
                retryAfter = retryAfter(response.headers().firstValue("Retry-After"));
            } catch (LlmException e) {
                last = e;
            } catch (AnswerTooLargeException e) {
                // Not retried, though other malformed answers are: a body past the cap is a server or proxy that
                // ignores max_tokens or sends something else entirely, not a glitch, and each retry would read
                // another cap's worth and could hold the call for another timeout.
                throw new LlmException(Kind.MALFORMED_RESPONSE, prefix() + e.getMessage() + "; not retried", e);
            } catch (HttpTimeoutException e) {
                last = new LlmException(Kind.TIMEOUT, prefix() + "no answer within " + settings.timeout(), e);
            } catch (IOException e) {
                last = new LlmException(Kind.NETWORK, prefix() + redact(describe(e, uri)), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LlmException(Kind.NETWORK, prefix() + "interrupted", e);
            }
            if (!last.kind().retryable() || attempt == maxAttempts) {
                break;
            }
            try {
                sleeper.sleep(retryAfter != null ? retryAfter : backoff(attempt - 1, iteration));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LlmException(Kind.NETWORK, prefix() + "interrupted while waiting to retry", e);
            }
        }
        if (!last.kind().retryable() || maxAttempts == 1) {
            throw last;
        }
        throw new LlmException(last.kind(), last.getMessage() + " (after " + maxAttempts + " attempts)",
                last.getCause());
    }

    /**
     * Sends the request and reads the whole answer within {@code llm.timeout}. The request's own timeout ends when
     * the headers arrive: a server that then sent the body slowly (a proxy keeping a long generation's connection
     * alive with whitespace) held the call, its iteration and a run of one evaluation at a time for as long as it
     * went on. At most {@link #maxAnswerBytes} of the body are read.
     */
    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse.BodyHandler<String> capped =
                info -> new CappedSubscriber<>(HttpResponse.BodyHandlers.ofString().apply(info), maxAnswerBytes);
        CompletableFuture<HttpResponse<String>> pending = http.sendAsync(request, capped);
        try {
            return pending.get(saturatedNanos(settings.timeout()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true); // aborts the exchange and closes its connection
            throw new HttpTimeoutException("the answer was not complete within " + settings.timeout());
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof AnswerTooLargeException big) {
                    throw big; // java.net.http may wrap the subscriber's error in its own IOException
                }
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(cause);
        }
    }

    /** An answer whose body went past the cap; its bytes so far have been dropped. */
    static final class AnswerTooLargeException extends IOException {
        @Serial
        private static final long serialVersionUID = 1L;

        AnswerTooLargeException(long cap) {
            super("the answer is larger than the cap of " + cap + " bytes"
                    + (cap % (1L << 20) == 0 ? " (" + (cap >> 20) + " MiB)" : ""));
        }
    }

    /**
     * Passes a body on to another subscriber until more than {@code cap} bytes have come; then cancels the
     * subscription (which closes the connection) and fails the other subscriber, so what it held is dropped.
     * Reactive Streams delivers the signals one at a time, in order, so the fields need no locking.
     */
    static final class CappedSubscriber<T> implements HttpResponse.BodySubscriber<T> {
        private final HttpResponse.BodySubscriber<T> downstream;
        private final long cap;
        private Flow.Subscription subscription;
        private long received;
        private boolean done;

        CappedSubscriber(HttpResponse.BodySubscriber<T> downstream, long cap) {
            this.downstream = downstream;
            this.cap = cap;
        }

        @Override
        public CompletionStage<T> getBody() {
            return downstream.getBody();
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            downstream.onSubscribe(s);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (done) {
                return;
            }
            for (ByteBuffer b : items) {
                received += b.remaining();
            }
            if (received > cap) {
                done = true;
                subscription.cancel();
                downstream.onError(new AnswerTooLargeException(cap));
                return;
            }
            downstream.onNext(items);
        }

        @Override
        public void onError(Throwable t) {
            if (!done) {
                done = true;
                downstream.onError(t);
            }
        }

        @Override
        public void onComplete() {
            if (!done) {
                done = true;
                downstream.onComplete();
            }
        }
    }

    /** The request JSON for a prompt. */
    String requestBody(List<ChatMessage> messages, int iteration) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", model.name());
        ArrayNode ms = root.putArray("messages");
        for (ChatMessage m : messages) {
            ms.addObject().put("role", m.role()).put("content", m.content());
        }
        root.put("temperature", settings.temperature());
        root.put("top_p", settings.topP());
        root.put("max_tokens", settings.maxTokens());
        root.put("seed", samplingSeed(settings.seed(), iteration));
        return JSON.writeValueAsString(root);
    }

    /** The per-iteration sampling seed sent to servers: non-negative and within 31 bits, which all accept. */
    static long samplingSeed(long seed, int iteration) {
        return Seeds.mix(seed, Seeds.SAMPLING, iteration, 0) >>> 33;
    }

    /** Back-off before retry {@code k} (0 = first retry): retryDelay·2^k plus up to 10% jitter, capped. */
    Duration backoff(int k, int iteration) {
        long baseNanos = saturatedNanos(settings.retryDelay());
        long capNanos = saturatedNanos(settings.maxRetryDelay());
        long nanos = k >= 62 || baseNanos > (capNanos >> Math.min(k, 62)) ? capNanos : baseNanos << k;
        double jitter = 0.1 * Seeds.unit(Seeds.mix(settings.seed(), Seeds.JITTER, iteration, k));
        long withJitter = nanos + (long) (nanos * jitter);
        return Duration.ofNanos(Math.min(capNanos, withJitter < 0 ? capNanos : withJitter));
    }

    /** A delay in nanoseconds, or Long.MAX_VALUE past 292 years, where toNanos overflowed at the first retry. */
    private static long saturatedNanos(Duration d) {
        return d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
    }

    private Duration retryAfter(Optional<String> header) {
        if (header.isEmpty()) {
            return null;
        }
        try {
            double seconds = Double.parseDouble(header.get().strip());
            if (!(seconds >= 0) || Double.isInfinite(seconds)) {
                return null;
            }
            Duration d = Duration.ofMillis((long) Math.ceil(seconds * 1000));
            return d.compareTo(settings.maxRetryDelay()) > 0 ? settings.maxRetryDelay() : d;
        } catch (NumberFormatException e) {
            return null; // an HTTP date: fall back to the back-off
        }
    }

    private LlmException statusError(int status, String body) {
        String detail = prefix() + "HTTP " + status;
        String snippet = errorSnippet(body);
        if (status == 429) {
            return new LlmException(Kind.RATE_LIMITED, detail + " (rate limited)" + snippet);
        }
        if (status >= 500) {
            return new LlmException(Kind.SERVER_ERROR, detail + " (server error)" + snippet);
        }
        if (status == 408) {
            return new LlmException(Kind.TIMEOUT, detail + " (request timeout)" + snippet);
        }
        if ((status == 401 || status == 403) && model.apiKeyEnv() != null) {
            detail += " (check the key in $" + model.apiKeyEnv() + ")";
        }
        return new LlmException(Kind.CLIENT_ERROR, detail + snippet);
    }

    private Completion parse(String body, List<ChatMessage> messages, int attempt) throws LlmException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            throw new LlmException(Kind.MALFORMED_RESPONSE, prefix() + "body is not JSON" + errorSnippet(body));
        }
        if (root == null || !root.isObject()) {
            throw new LlmException(Kind.MALFORMED_RESPONSE, prefix() + "body is not a JSON object"
                    + errorSnippet(body));
        }
        JsonNode choices = root.path("choices");
        if (!choices.isArray() || choices.isEmpty()) {
            throw new LlmException(Kind.MALFORMED_RESPONSE, prefix() + "no choices in the answer" + errorSnippet(body));
        }
        String content = contentText(choices.get(0).path("message").path("content"));
        if (content == null) {
            throw new LlmException(Kind.MALFORMED_RESPONSE, prefix() + "no message content in the answer"
                    + errorSnippet(body));
        }
        JsonNode usage = root.path("usage");
        long promptTokens = tokens(usage.path("prompt_tokens"), estimatePrompt(messages));
        long completionTokens = tokens(usage.path("completion_tokens"), estimate(content.length()));
        double cost = model.costUsd(promptTokens, completionTokens);
        ledger.record(model.name(), promptTokens, completionTokens, cost);
        return new Completion(model.name(), content, promptTokens, completionTokens, cost, attempt);
    }

    /** A string, or the concatenated text of an array of {@code {"type":"text","text":...}} parts; else null. */
    static String contentText(JsonNode content) {
        if (content.isString()) {
            return content.stringValue();
        }
        if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            boolean any = false;
            for (JsonNode part : content) {
                if (part.isString()) {
                    sb.append(part.stringValue());
                    any = true;
                } else if (part.isObject() && part.path("text").isString()
                        && (part.path("type").isMissingNode() || "text".equals(part.path("type").asString()))) {
                    sb.append(part.path("text").stringValue());
                    any = true;
                }
            }
            return any || content.isEmpty() ? sb.toString() : null;
        }
        return null;
    }

    private static long tokens(JsonNode n, long estimate) {
        return n.isNumber() && n.canConvertToLong() && n.longValue() >= 0 ? n.longValue() : estimate;
    }

    private static long estimatePrompt(List<ChatMessage> messages) {
        long chars = 0;
        for (ChatMessage m : messages) {
            chars += m.content().length();
        }
        return estimate(chars);
    }

    /** Tokens estimated as characters / 4, rounded up. */
    static long estimate(long chars) {
        return (chars + 3) / 4;
    }

    /** ": " and a one-line start of an error body (its error.message when it has one), or "" when empty. */
    private String errorSnippet(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String text = body;
        try {
            JsonNode root = JSON.readTree(body);
            if (root != null) {
                JsonNode msg = root.path("error").isString() ? root.path("error") : root.path("error").path("message");
                if (msg.isString() && !msg.stringValue().isBlank()) {
                    text = msg.stringValue();
                }
            }
        } catch (JacksonException e) {
            // not JSON: show the raw start
        }
        text = LlmException.oneLine(redact(text));
        if (text.length() > SNIPPET) {
            text = text.substring(0, SNIPPET) + "...";
        }
        return ": " + text;
    }

    /**
     * One phrase for a failed request. java.net.http's exceptions often carry no message (a refused connection is
     * a {@code ConnectException} with message null, caused by a {@code ClosedChannelException}; an unknown host adds
     * an {@code UnresolvedAddressException}), which read as "ConnectException: null".
     */
    static String describe(IOException e, URI uri) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "cannot resolve host " + uri.getHost();
            }
        }
        if (e instanceof ConnectException) {
            int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
            String why = e.getMessage() == null ? "connection refused, or no route to it" : e.getMessage();
            return "cannot connect to " + uri.getHost() + ":" + port + " (" + why + ")";
        }
        String name = e.getClass().getSimpleName();
        return e.getMessage() == null ? name : name + ": " + e.getMessage();
    }

    private String redact(String s) {
        if (s == null) {
            return "";
        }
        return apiKey == null ? s : s.replace(apiKey, "***");
    }

    private String prefix() {
        return "model " + model.name() + " at " + uri + ": ";
    }

    @Override
    public String toString() {
        return "OpenAiCompatibleClient[model=" + model.name() + ", url=" + uri + ", key="
                + (model.apiKeyEnv() == null ? "none" : "$" + model.apiKeyEnv()) + "]";
    }
}
