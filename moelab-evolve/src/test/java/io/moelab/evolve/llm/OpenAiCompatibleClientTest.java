package io.moelab.evolve.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.llm.LlmException.Kind;
import io.moelab.evolve.testing.ScriptedChatServer;
import io.moelab.evolve.testing.ScriptedChatServer.Reply;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The HTTP client against a scripted local server, with a sleeper that only records. */
class OpenAiCompatibleClientTest {
    private static final String KEY = "sk-test-SECRET-0123456789";
    private static final Function<String, String> ENV = Map.of("TEST_KEY", KEY)::get;
    private static final List<ChatMessage> PROMPT =
            List.of(ChatMessage.system("You improve code."), ChatMessage.user("Make it faster."));

    private ScriptedChatServer server;
    private RecordingSleeper sleeper;
    private CostLedger ledger;

    @BeforeEach
    void start() {
        server = ScriptedChatServer.start();
        sleeper = new RecordingSleeper();
        ledger = new CostLedger();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private LlmModel model() {
        return new LlmModel("test-model", 1, server.apiBase(), "TEST_KEY", 2.0, 10.0);
    }

    private LlmSettings settings(LlmModel m) {
        return LlmSettings.defaults(List.of(m))
                .withTimeout(Duration.ofSeconds(5))
                .withRetryDelays(Duration.ofMillis(10), Duration.ofSeconds(5));
    }

    private OpenAiCompatibleClient client() {
        return client(settings(model()));
    }

    private OpenAiCompatibleClient client(LlmSettings s) {
        return new OpenAiCompatibleClient(s.models().getFirst(), s, ledger, sleeper, ENV);
    }

    @Test
    void parsesContentUsageAndCost() throws LlmException {
        server.enqueue(Reply.content("def f(): pass"));
        Completion c = client().complete(PROMPT, 7);

        assertThat(c.model()).isEqualTo("test-model");
        assertThat(c.content()).isEqualTo("def f(): pass");
        assertThat(c.promptTokens()).isEqualTo(100);
        assertThat(c.completionTokens()).isEqualTo(50);
        assertThat(c.costUsd()).isCloseTo(100 * 2.0 / 1e6 + 50 * 10.0 / 1e6, within(1e-15));
        assertThat(c.attempts()).isEqualTo(1);
        assertThat(ledger.totalUsd()).isCloseTo(c.costUsd(), within(1e-15));
        assertThat(ledger.byModel().get("test-model").calls()).isEqualTo(1);
        assertThat(sleeper.sleeps()).isEmpty();

        JsonNode req = server.requests().getFirst();
        assertThat(req.path("model").stringValue()).isEqualTo("test-model");
        assertThat(req.path("messages")).hasSize(2);
        assertThat(req.path("messages").get(0).path("role").stringValue()).isEqualTo("system");
        assertThat(req.path("messages").get(1).path("content").stringValue()).isEqualTo("Make it faster.");
        assertThat(req.path("temperature").doubleValue()).isEqualTo(0.7);
        assertThat(req.path("top_p").doubleValue()).isEqualTo(0.95);
        assertThat(req.path("max_tokens").intValue()).isEqualTo(4096);
        assertThat(req.path("seed").longValue())
                .isEqualTo(OpenAiCompatibleClient.samplingSeed(42, 7))
                .isBetween(0L, (long) Integer.MAX_VALUE);
    }

    @Test
    void seedIsDeterministicPerIterationAndVaries() {
        assertThat(OpenAiCompatibleClient.samplingSeed(42, 3)).isEqualTo(OpenAiCompatibleClient.samplingSeed(42, 3));
        assertThat(OpenAiCompatibleClient.samplingSeed(42, 3)).isNotEqualTo(OpenAiCompatibleClient.samplingSeed(42, 4));
        assertThat(OpenAiCompatibleClient.samplingSeed(42, 3)).isNotEqualTo(OpenAiCompatibleClient.samplingSeed(43, 3));
    }

    @Test
    void acceptsContentAsTextParts() throws LlmException {
        server.enqueue(Reply.contentParts("part one, ", "part two"));
        assertThat(client().complete(PROMPT, 0).content()).isEqualTo("part one, part two");
    }

    @Test
    void estimatesTokensWithoutUsage() throws LlmException {
        server.enqueue(Reply.raw(200,
                "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"abcdefghi\"}}]}"));
        Completion c = client().complete(PROMPT, 0);
        long promptChars = PROMPT.stream().mapToLong(m -> m.content().length()).sum();
        assertThat(c.completionTokens()).isEqualTo(3);
        assertThat(c.promptTokens()).isEqualTo((promptChars + 3) / 4);
        assertThat(c.costUsd()).isCloseTo(model().costUsd(c.promptTokens(), 3), within(1e-15));
    }

    @Test
    void trailingSlashInApiBaseIsTolerated() throws LlmException {
        server.enqueue(Reply.content("ok"));
        LlmModel m = new LlmModel("m", 1, server.apiBase() + "/", null, 0, 0);
        assertThat(client(settings(m)).complete(PROMPT, 0).content()).isEqualTo("ok");
    }

    @Test
    void rateLimitIsRetriedHonoringRetryAfter() throws LlmException {
        server.enqueue(Reply.status(429).withHeader("Retry-After", "3"), Reply.content("ok"));
        Completion c = client().complete(PROMPT, 0);
        assertThat(c.content()).isEqualTo("ok");
        assertThat(c.attempts()).isEqualTo(2);
        assertThat(sleeper.sleeps()).containsExactly(Duration.ofSeconds(3));
        assertThat(ledger.byModel().get("test-model").calls()).isEqualTo(1);
    }

    @Test
    void retryAfterIsCappedAtMaxRetryDelay() throws LlmException {
        server.enqueue(Reply.status(429).withHeader("Retry-After", "3600"), Reply.content("ok"));
        client().complete(PROMPT, 0);
        assertThat(sleeper.sleeps()).containsExactly(Duration.ofSeconds(5));
    }

    @Test
    void serverErrorsAreRetriedWithExponentialBackoff() throws LlmException {
        server.enqueue(Reply.status(500), Reply.status(503), Reply.content("ok"));
        Completion c = client().complete(PROMPT, 0);
        assertThat(c.attempts()).isEqualTo(3);
        assertThat(server.requestCount()).isEqualTo(3);
        List<Duration> s = sleeper.sleeps();
        assertThat(s).hasSize(2);
        assertThat(s.get(0)).isBetween(Duration.ofMillis(10), Duration.ofMillis(11));
        assertThat(s.get(1)).isBetween(Duration.ofMillis(20), Duration.ofMillis(22));
    }

    @Test
    void persistentServerErrorFailsAfterAllAttempts() {
        // the default fallback answers 500
        LlmException e = catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
        assertThat(e.getMessage()).contains("500").contains("after 4 attempts").doesNotContain("\n");
        assertThat(server.requestCount()).isEqualTo(4);
        assertThat(sleeper.sleeps()).hasSize(3);
        assertThat(ledger.totalUsd()).isZero();
    }

    @Test
    void clientErrorIsNotRetried() {
        server.enqueue(Reply.status(400), Reply.content("never"));
        LlmException e = catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.CLIENT_ERROR);
        assertThat(e.getMessage()).contains("HTTP 400").contains("scripted error 400");
        assertThat(server.requestCount()).isEqualTo(1);
        assertThat(sleeper.sleeps()).isEmpty();
    }

    @Test
    void malformedBodiesAreRetried() throws LlmException {
        server.enqueue(
                Reply.raw(200, "{\"choices\": [ {\"mess"),
                Reply.raw(200, "{\"choices\": []}"),
                Reply.raw(200, "{\"choices\": [{\"message\": {\"content\": null}}]}"),
                Reply.content("ok"));
        Completion c = client().complete(PROMPT, 0);
        assertThat(c.content()).isEqualTo("ok");
        assertThat(c.attempts()).isEqualTo(4);
    }

    @Test
    void persistentMalformedBodyFails() {
        server.fallback(req -> Reply.raw(200, "<html>gateway</html>"));
        LlmException e = catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE);
        assertThat(e.getMessage()).contains("not JSON").contains("<html>gateway");
    }

    @Test
    void slowServerTimesOutAfterRetries() {
        LlmSettings s = settings(model()).withTimeout(Duration.ofMillis(150)).withRetries(1);
        server.fallback(req -> Reply.delayed(Duration.ofSeconds(3), Reply.content("late")));
        long t0 = System.nanoTime();
        LlmException e = catchThrowableOfType(LlmException.class, () -> client(s).complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(e.getMessage()).contains("after 2 attempts");
        assertThat(sleeper.sleeps()).hasSize(1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    }

    /**
     * A server that sends its headers at once and then the body a byte at a time (as proxies that keep a slow
     * generation's connection alive with whitespace do) must still be cut off at llm.timeout: the request timeout
     * of java.net.http ends when the headers arrive, and such a call hung its iteration, and a run of one
     * evaluation at a time, for as long as the server went on.
     */
    @Test
    void aBodyThatTricklesInIsCutOffAtTheTimeout() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread serve = Thread.ofVirtual().start(() -> {
                while (!ss.isClosed()) {
                    try {
                        Socket s = ss.accept();
                        Thread.ofVirtual().start(() -> trickle(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            LlmModel m = new LlmModel("m", 1, "http://127.0.0.1:" + ss.getLocalPort() + "/v1", null, 0, 0);
            LlmSettings s = settings(m).withTimeout(Duration.ofMillis(300)).withRetries(1);
            long t0 = System.nanoTime();
            LlmException e = catchThrowableOfType(LlmException.class, () -> client(s).complete(PROMPT, 0));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            ss.close();
            serve.join();
            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(e.getMessage()).contains("no answer within", "after 2 attempts");
            assertThat(took).isLessThan(Duration.ofSeconds(5));
        }
    }

    /** Answers one request with a 200 and a long body written one space every 50 ms. */
    private static void trickle(Socket socket) {
        try (socket) {
            socket.getInputStream().read(new byte[1 << 16]);
            var out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 200; i++) {
                Thread.sleep(50);
                out.write(' ');
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the client hung up: done
        }
    }

    /**
     * The body was read whole with no cap, so a server or proxy that sent gigabytes ran the run out of heap. Up to
     * the cap an answer is read; one byte past it the attempt fails, and is not retried.
     */
    @Test
    void anAnswerPastTheSizeCapFailsAndIsNotRetried() throws LlmException {
        int cap = 4096;
        String fits = padded(Reply.content("ok").body(), cap);
        String over = padded(Reply.content("too big").body(), cap + 1);
        LlmSettings s = settings(model());
        server.enqueue(Reply.raw(200, fits), Reply.raw(200, over), Reply.content("never"));
        OpenAiCompatibleClient client = new OpenAiCompatibleClient(model(), s, ledger, sleeper, ENV, cap);

        assertThat(client.complete(PROMPT, 0).content()).isEqualTo("ok");
        LlmException e = catchThrowableOfType(LlmException.class, () -> client.complete(PROMPT, 1));
        assertThat(e).isNotNull();
        assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE);
        assertThat(e.getMessage()).isEqualTo("model test-model at " + server.apiBase() + "/chat/completions: "
                + "the answer is larger than the cap of 4096 bytes; not retried");
        assertThat(server.requestCount()).isEqualTo(2);
        assertThat(sleeper.sleeps()).isEmpty();
        assertThat(ledger.byModel().get("test-model").calls()).isEqualTo(1);
    }

    /** A JSON body with trailing spaces up to exactly {@code bytes} (ASCII) bytes. */
    private static String padded(String json, int bytes) {
        assertThat(json.length()).isLessThan(bytes);
        return json + " ".repeat(bytes - json.length());
    }

    /**
     * A server that streams a body with no end: the attempt ends when the cap is passed, not at the timeout or when
     * the heap runs out, and the connection is closed rather than read on.
     */
    @Test
    void anEndlessBodyIsCutOffAtTheCapAndItsConnectionClosed() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CountDownLatch hungUp = new java.util.concurrent.CountDownLatch(1);
            Thread serve = Thread.ofVirtual().start(() -> {
                while (!ss.isClosed()) {
                    try {
                        Socket s = ss.accept();
                        connections.incrementAndGet();
                        Thread.ofVirtual().start(() -> {
                            flood(s);
                            hungUp.countDown();
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            LlmModel m = new LlmModel("m", 1, "http://127.0.0.1:" + ss.getLocalPort() + "/v1", null, 0, 0);
            LlmSettings s = settings(m).withTimeout(Duration.ofSeconds(60));
            OpenAiCompatibleClient client = new OpenAiCompatibleClient(m, s, ledger, sleeper, ENV, 1 << 20);
            long t0 = System.nanoTime();
            LlmException e = catchThrowableOfType(LlmException.class, () -> client.complete(PROMPT, 0));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE);
            assertThat(e.getMessage()).endsWith("the answer is larger than the cap of 1048576 bytes (1 MiB); "
                    + "not retried");
            assertThat(took).isLessThan(Duration.ofSeconds(20));
            assertThat(hungUp.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("connection closed").isTrue();
            assertThat(connections.get()).isEqualTo(1);
            ss.close();
            serve.join();
        }
    }

    /** Answers one request with a 200 and up to 256 MiB of spaces, until the client hangs up. */
    private static void flood(Socket socket) {
        try (socket) {
            socket.getInputStream().read(new byte[1 << 16]);
            var out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] spaces = " ".repeat(1 << 16).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 4096; i++) {
                out.write(spaces);
            }
            out.flush();
        } catch (IOException e) {
            // the client hung up: done
        }
    }

    @Test
    void refusedConnectionIsANetworkError() throws IOException {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        LlmModel m = new LlmModel("m", 1, "http://127.0.0.1:" + port + "/v1", null, 0, 0);
        LlmException e = catchThrowableOfType(LlmException.class, () -> client(settings(m)).complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.NETWORK);
        assertThat(sleeper.sleeps()).hasSize(3);
        // java.net.http's ConnectException carries no message: the error read 'ConnectException: null'.
        assertThat(e.getMessage()).isEqualTo("model m at http://127.0.0.1:" + port + "/v1/chat/completions: "
                + "cannot connect to 127.0.0.1:" + port + " (connection refused, or no route to it) "
                + "(after 4 attempts)");
    }

    /** What a failed request says, for the exceptions java.net.http throws (whose messages are often null). */
    @Test
    void networkFailuresAreDescribedWithoutNullMessages() {
        java.net.URI uri = java.net.URI.create("http://llm.example:8000/v1/chat/completions");
        IOException unresolved = new java.net.ConnectException();
        unresolved.initCause(new java.nio.channels.UnresolvedAddressException());
        assertThat(OpenAiCompatibleClient.describe(unresolved, uri)).isEqualTo("cannot resolve host llm.example");
        IOException refused = new java.net.ConnectException();
        refused.initCause(new java.nio.channels.ClosedChannelException());
        assertThat(OpenAiCompatibleClient.describe(refused, uri))
                .isEqualTo("cannot connect to llm.example:8000 (connection refused, or no route to it)");
        assertThat(OpenAiCompatibleClient.describe(new java.net.ConnectException("Connection refused"), uri))
                .isEqualTo("cannot connect to llm.example:8000 (Connection refused)");
        assertThat(OpenAiCompatibleClient.describe(new IOException("connection reset"), uri))
                .isEqualTo("IOException: connection reset");
        assertThat(OpenAiCompatibleClient.describe(new java.io.EOFException(), uri)).isEqualTo("EOFException");
        // No port in the URL: the scheme's default is named.
        assertThat(OpenAiCompatibleClient.describe(new java.net.ConnectException(),
                java.net.URI.create("https://api.example.com/v1/chat/completions")))
                .isEqualTo("cannot connect to api.example.com:443 (connection refused, or no route to it)");
    }

    @Test
    void keyGoesOnlyIntoTheAuthorizationHeader() {
        server.fallback(req -> Reply.raw(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
        OpenAiCompatibleClient client = client();
        LlmException e = catchThrowableOfType(LlmException.class, () -> client.complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.CLIENT_ERROR);
        assertThat(e.getMessage()).contains("401").contains("TEST_KEY").doesNotContain(KEY);
        assertThat(client.toString()).doesNotContain(KEY);
        assertThat(server.authorizations()).containsExactly("Bearer " + KEY);
        assertThat(server.requests().getFirst().toString()).doesNotContain(KEY);
    }

    /** 401 and 403 point at the key's variable when there is one; another 4xx, or a model without a key, does not. */
    @Test
    void aRefusedKeyIsPointedAtOnlyWhenThereIsOne() {
        String prefix = "model test-model at " + server.apiBase() + "/chat/completions: ";
        for (int status : List.of(401, 403)) {
            server.enqueue(Reply.status(status));
            LlmException e = catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0));
            assertThat(e.getMessage()).isEqualTo(prefix + "HTTP " + status + " (check the key in $TEST_KEY): "
                    + "scripted error " + status);
        }
        server.enqueue(Reply.status(404));
        assertThat(catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0)).getMessage())
                .isEqualTo(prefix + "HTTP 404: scripted error 404");
        LlmModel local = new LlmModel("test-model", 1, server.apiBase(), null, 0, 0);
        server.enqueue(Reply.status(401));
        assertThat(catchThrowableOfType(LlmException.class, () -> client(settings(local)).complete(PROMPT, 0))
                .getMessage()).isEqualTo(prefix + "HTTP 401: scripted error 401");
    }

    /**
     * An error body's message, or its start when it is not an OpenAI error: on one line, at most 200 characters
     * and the key never in it; none at all for an empty body.
     */
    @Test
    void errorBodiesAreShownOnOneShortLine() {
        String prefix = "model test-model at " + server.apiBase() + "/chat/completions: HTTP 400";
        server.enqueue(Reply.raw(400, "{\"error\": \"bad\\nrequest\"}"));
        assertThat(catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0)).getMessage())
                .isEqualTo(prefix + ": bad request");
        String longText = "x".repeat(150) + " " + KEY + " " + "y".repeat(100);
        server.enqueue(Reply.raw(400, longText));
        String cut = ("x".repeat(150) + " *** " + "y".repeat(100)).substring(0, 200) + "...";
        assertThat(catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0)).getMessage())
                .isEqualTo(prefix + ": " + cut);
        server.enqueue(Reply.raw(400, " \n"));
        assertThat(catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0)).getMessage())
                .isEqualTo(prefix);
        // An error object without a message: the body as it came.
        server.enqueue(Reply.raw(400, "{\"error\": {\"code\": 7}}"));
        assertThat(catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0)).getMessage())
                .isEqualTo(prefix + ": {\"error\": {\"code\": 7}}");
    }

    /** 408 is the server's own timeout: retried, and after the last attempt a TIMEOUT; with no retries, as it came. */
    @Test
    void requestTimeoutIsRetriedAsATimeout() throws LlmException {
        server.enqueue(Reply.status(408), Reply.content("ok"));
        assertThat(client().complete(PROMPT, 2).attempts()).isEqualTo(2);
        assertThat(sleeper.sleeps()).containsExactly(client().backoff(0, 2));
        server.enqueue(Reply.status(408));
        LlmException e = catchThrowableOfType(LlmException.class,
                () -> client(settings(model()).withRetries(0)).complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(e.getMessage()).endsWith("HTTP 408 (request timeout): scripted error 408");
        assertThat(server.requestCount()).isEqualTo(3);
    }

    /**
     * Retry-After in seconds, fractions rounded up to the millisecond, replaces the back-off; a date, a negative or
     * an infinite number leaves the back-off.
     */
    @Test
    void retryAfterThatIsNotAUsableNumberLeavesTheBackoff() throws LlmException {
        OpenAiCompatibleClient client = client();
        for (String header : List.of("Wed, 21 Oct 2015 07:28:00 GMT", "-1", "Infinity", "NaN", "0.0004", "0")) {
            server.enqueue(Reply.status(503).withHeader("Retry-After", header), Reply.content("ok"));
            client.complete(PROMPT, 5);
        }
        Duration backoff = client.backoff(0, 5);
        assertThat(sleeper.sleeps()).containsExactly(backoff, backoff, backoff, backoff, Duration.ofMillis(1),
                Duration.ZERO);
    }

    /** Token counts that are not non-negative integers are estimated, as when the usage is missing. */
    @Test
    void unusableTokenCountsAreEstimated() throws LlmException {
        server.enqueue(Reply.raw(200, "{\"choices\":[{\"message\":{\"content\":\"abcdefghi\"}}],"
                + "\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":\"40\"}}"));
        Completion c = client().complete(PROMPT, 0);
        long promptChars = PROMPT.stream().mapToLong(m -> m.content().length()).sum();
        assertThat(c.promptTokens()).isEqualTo((promptChars + 3) / 4);
        assertThat(c.completionTokens()).isEqualTo(3);
        server.enqueue(Reply.raw(200, "{\"choices\":[{\"message\":{\"content\":\"\"}}],"
                + "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0}}"));
        Completion zero = client().complete(PROMPT, 0);
        assertThat(zero.promptTokens()).isZero();
        assertThat(zero.completionTokens()).isZero();
        assertThat(zero.costUsd()).isZero();
        assertThat(ledger.byModel().get("test-model")).isEqualTo(new CostLedger.ModelUsage(2,
                (promptChars + 3) / 4, 3, c.costUsd()));
    }

    /** Only 2xx is an answer: a 300 (redirects are not followed) carrying a completion is a client error. */
    @Test
    void aCompletionUnder300IsNotAnAnswer() {
        server.enqueue(new Reply(300, Reply.content("moved").body(), Map.of(), null));
        LlmException e = catchThrowableOfType(LlmException.class, () -> client().complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.CLIENT_ERROR);
        assertThat(e.getMessage()).contains("HTTP 300");
        assertThat(ledger.totalCalls()).isZero();
    }

    /** Content parts: plain strings and text parts (typed or not) joined; other parts skipped; none at all is null. */
    @Test
    void contentPartsOfEveryKind() {
        tools.jackson.databind.json.JsonMapper json = tools.jackson.databind.json.JsonMapper.builder().build();
        Function<String, String> text = s -> OpenAiCompatibleClient.contentText(json.readTree(s));
        assertThat(text.apply("[\"a\", {\"type\": \"text\", \"text\": \"b\"}, {\"text\": \"c\"}, "
                + "{\"type\": \"image_url\", \"text\": \"x\"}, {\"type\": \"text\", \"text\": 5}, 7]"))
                .isEqualTo("abc");
        assertThat(text.apply("[]")).isEmpty();
        assertThat(text.apply("[{\"type\": \"image_url\"}]")).isNull();
        assertThat(text.apply("5")).isNull();
        assertThat(text.apply("null")).isNull();
    }

    @Test
    void toStringNamesTheModelUrlAndKeyVariable() {
        assertThat(client()).hasToString("OpenAiCompatibleClient[model=test-model, url=" + server.apiBase()
                + "/chat/completions, key=$TEST_KEY]");
        assertThat(client(settings(new LlmModel("local", 1, server.apiBase(), null, 0, 0)))).hasToString(
                "OpenAiCompatibleClient[model=local, url=" + server.apiBase() + "/chat/completions, key=none]");
    }

    @Test
    void noKeyVariableSendsNoAuthorization() throws LlmException {
        server.enqueue(Reply.content("ok"));
        LlmModel m = new LlmModel("local", 1, server.apiBase(), null, 0, 0);
        client(settings(m)).complete(PROMPT, 0);
        assertThat(server.authorizations()).containsExactly("");
    }

    @Test
    void missingKeyVariableIsRejectedByName() {
        LlmSettings s = settings(model());
        for (Function<String, String> env : List.<Function<String, String>>of(v -> null, v -> "  ")) {
            assertThatThrownBy(() -> new OpenAiCompatibleClient(model(), s, ledger, sleeper, env))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith("TEST_KEY:");
        }
    }

    @Test
    void exhaustedBudgetSendsNoRequest() {
        ledger.record("earlier", 1000, 1000, 1.0);
        LlmSettings s = settings(model()).withBudgetUsd(1.0);
        server.enqueue(Reply.content("never"));
        LlmException e = catchThrowableOfType(LlmException.class, () -> client(s).complete(PROMPT, 0));
        assertThat(e.kind()).isEqualTo(Kind.BUDGET_EXHAUSTED);
        assertThat(server.requestCount()).isZero();
    }

    /** The amounts were written in the default locale: "$1,0000" in a German one. */
    @Test
    void theBudgetMessageUsesADecimalPointInAnyLocale() {
        java.util.Locale before = java.util.Locale.getDefault();
        try {
            java.util.Locale.setDefault(java.util.Locale.GERMANY);
            ledger.record("earlier", 1000, 1000, 1.5);
            LlmException e = catchThrowableOfType(LlmException.class,
                    () -> client(settings(model()).withBudgetUsd(1.25)).complete(PROMPT, 0));
            assertThat(e.getMessage()).contains("budget of $1.2500 reached ($1.5000 spent)");
        } finally {
            java.util.Locale.setDefault(before);
        }
    }

    /**
     * A cap (or first delay) beyond what nanoseconds in a long hold, about 292 years, failed the first retry with an
     * ArithmeticException: it now saturates, as no cap at all.
     */
    @Test
    void aRetryDelayBeyondLongNanosSaturates() throws LlmException {
        Duration ages = Duration.ofDays(365L * 300);
        OpenAiCompatibleClient client = client(settings(model()).withRetryDelays(Duration.ofMillis(10), ages));
        assertThat(client.backoff(0, 1).toNanos()).isBetween(10_000_000L, 11_000_000L);
        assertThat(client.backoff(3, 1).toNanos()).isBetween(80_000_000L, 88_000_000L);
        assertThat(client.backoff(80, 1)).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
        assertThat(client(settings(model()).withRetryDelays(ages, ages)).backoff(0, 1))
                .isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
        server.enqueue(Reply.status(503));
        server.enqueue(Reply.content("ok"));
        assertThat(client.complete(PROMPT, 1).content()).isEqualTo("ok");
        assertThat(sleeper.sleeps()).hasSize(1);
        assertThat(sleeper.sleeps().getFirst().toNanos()).isBetween(10_000_000L, 11_000_000L);
    }

    @Test
    void backoffStaysBetweenTheExponentialDelayAndTheCap() {
        OpenAiCompatibleClient client = client();
        qt().forAll(integers().between(0, 100), integers().all()).checkAssert((k, it) -> {
            long exp = k >= 20 ? Long.MAX_VALUE : 10_000_000L << k;
            long min = Math.min(exp, 5_000_000_000L);
            long nanos = client.backoff(k, it).toNanos();
            assertThat(nanos).isBetween(min, Math.min(5_000_000_000L, min + min / 10));
        });
    }
}
