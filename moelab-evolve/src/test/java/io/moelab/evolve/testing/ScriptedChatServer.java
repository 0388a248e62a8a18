package io.moelab.evolve.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local OpenAI-compatible chat-completions server for tests, on 127.0.0.1 and a free port. Each
 * {@code POST /v1/chat/completions} takes the next scripted {@link Reply} from a queue; when the queue is empty
 * the fallback decides (by default HTTP 500). Every request body and {@code Authorization} header is kept.
 * Requests are served concurrently, so a delayed reply does not hold up the others.
 */
public final class ScriptedChatServer implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String PATH = "/v1/chat/completions";

    /**
     * One scripted answer.
     *
     * @param status  the HTTP status
     * @param body    the body, sent as is
     * @param headers extra response headers ({@code Content-Type} defaults to {@code application/json})
     * @param delay   how long to wait before answering
     */
    public record Reply(int status, String body, Map<String, String> headers, Duration delay) {

        /** Copies the headers; a null delay means none. */
        public Reply {
            Objects.requireNonNull(body, "body");
            headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
            delay = delay == null ? Duration.ZERO : delay;
        }

        /** HTTP 200 with a chat completion of {@code text}, 100 prompt and 50 completion tokens. */
        public static Reply content(String text) {
            return content(text, 100, 50);
        }

        /** HTTP 200 with a chat completion of {@code text} and the given usage. */
        public static Reply content(String text, long promptTokens, long completionTokens) {
            ObjectNode root = completionSkeleton();
            root.putArray("choices").addObject()
                    .put("index", 0)
                    .put("finish_reason", "stop")
                    .putObject("message").put("role", "assistant").put("content", text);
            root.putObject("usage")
                    .put("prompt_tokens", promptTokens)
                    .put("completion_tokens", completionTokens)
                    .put("total_tokens", promptTokens + completionTokens);
            return json(200, root);
        }

        /** HTTP 200 with a chat completion whose content is an array of {@code {"type":"text"}} parts. */
        public static Reply contentParts(String... parts) {
            ObjectNode root = completionSkeleton();
            ObjectNode message = root.putArray("choices").addObject()
                    .put("index", 0)
                    .put("finish_reason", "stop")
                    .putObject("message").put("role", "assistant");
            var arr = message.putArray("content");
            for (String p : parts) {
                arr.addObject().put("type", "text").put("text", p);
            }
            root.putObject("usage").put("prompt_tokens", 100).put("completion_tokens", 50).put("total_tokens", 150);
            return json(200, root);
        }

        /** An error status with an OpenAI-style error body. */
        public static Reply status(int code) {
            ObjectNode root = JSON.createObjectNode();
            root.putObject("error")
                    .put("message", "scripted error " + code)
                    .put("type", code == 429 ? "rate_limit_exceeded" : "scripted_error")
                    .put("code", code);
            return json(code, root);
        }

        /** Any status and body, e.g. malformed JSON. */
        public static Reply raw(int status, String body) {
            return new Reply(status, body, Map.of(), Duration.ZERO);
        }

        /** {@code reply}, sent after {@code delay}. */
        public static Reply delayed(Duration delay, Reply reply) {
            return new Reply(reply.status, reply.body, reply.headers, delay);
        }

        /** This reply with one more response header. */
        public Reply withHeader(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Reply(status, body, h, delay);
        }

        private static Reply json(int status, JsonNode body) {
            return new Reply(status, JSON.writeValueAsString(body), Map.of(), Duration.ZERO);
        }

        private static ObjectNode completionSkeleton() {
            ObjectNode root = JSON.createObjectNode();
            root.put("id", "chatcmpl-scripted");
            root.put("object", "chat.completion");
            root.put("created", 0);
            root.put("model", "scripted");
            return root;
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Queue<Reply> queue = new ConcurrentLinkedQueue<>();
    private final List<JsonNode> requests = Collections.synchronizedList(new ArrayList<>());
    private final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
    private volatile Function<JsonNode, Reply> fallback = request -> Reply.status(500);

    private ScriptedChatServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "scripted-chat-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /** Starts a server on 127.0.0.1 and a free port. */
    public static ScriptedChatServer start() {
        try {
            ScriptedChatServer s = new ScriptedChatServer();
            s.server.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The base URL, {@code http://127.0.0.1:PORT/v1}. */
    public String apiBase() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** Appends replies to the script. */
    public ScriptedChatServer enqueue(Reply... replies) {
        queue.addAll(List.of(replies));
        return this;
    }

    /** Decides replies once the script is used up; it sees the request body (or a JSON null if unparseable). */
    public ScriptedChatServer fallback(Function<JsonNode, Reply> f) {
        this.fallback = Objects.requireNonNull(f, "fallback");
        return this;
    }

    /** Scripted replies not yet sent. */
    public int pending() {
        return queue.size();
    }

    /** Bodies of the chat-completion requests received, in arrival order (JSON null if unparseable). */
    public List<JsonNode> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** {@code Authorization} headers of those requests, in the same order; "" when a request had none. */
    public List<String> authorizations() {
        synchronized (authorizations) {
            return List.copyOf(authorizations);
        }
    }

    /** How many chat-completion requests arrived. */
    public int requestCount() {
        return requests.size();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!PATH.equals(ex.getRequestURI().getPath())) {
                send(ex, Reply.raw(404, "{\"error\":{\"message\":\"no such path\"}}"));
                return;
            }
            if (!"POST".equals(ex.getRequestMethod())) {
                send(ex, Reply.raw(405, "{\"error\":{\"message\":\"POST only\"}}"));
                return;
            }
            byte[] bytes;
            try (InputStream in = ex.getRequestBody()) {
                bytes = in.readAllBytes();
            }
            JsonNode body;
            try {
                body = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
            } catch (JacksonException e) {
                body = NullNode.getInstance();
            }
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            // Both lists under one lock so that their indices match.
            synchronized (requests) {
                requests.add(body);
                authorizations.add(auth == null ? "" : auth);
            }
            Reply reply = queue.poll();
            if (reply == null) {
                reply = fallback.apply(body);
            }
            if (!reply.delay().isZero()) {
                try {
                    Thread.sleep(reply.delay());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            send(ex, reply);
        } catch (IOException e) {
            // The client went away (e.g. it timed out): nothing to answer.
        }
    }

    private static void send(HttpExchange ex, Reply reply) throws IOException {
        byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
        boolean hasType = reply.headers().keySet().stream().anyMatch(k -> k.equalsIgnoreCase("Content-Type"));
        if (!hasType) {
            ex.getResponseHeaders().set("Content-Type", "application/json");
        }
        reply.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            try (OutputStream os = ex.getResponseBody()) {
                os.write(out);
            }
        }
    }

    /** Stops the server at once, abandoning delayed replies. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
