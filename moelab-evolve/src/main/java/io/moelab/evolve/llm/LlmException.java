package io.moelab.evolve.llm;

import java.io.Serial;
import java.util.Objects;

/**
 * A chat completion that failed. The message is one line and never contains an API key.
 */
public final class LlmException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Why a completion failed. */
    public enum Kind {
        /** HTTP 429. */
        RATE_LIMITED,
        /** HTTP 5xx. */
        SERVER_ERROR,
        /** The request took longer than the timeout (or the server answered 408). */
        TIMEOUT,
        /** Connection or I/O failure. */
        NETWORK,
        /**
         * A body that is not a chat completion: not JSON, no choices, no content; or one larger than the client
         * reads (16 MiB), which the client does not retry although the kind is retryable.
         */
        MALFORMED_RESPONSE,
        /** Any other HTTP 4xx (bad key, bad model name, prompt too long): retrying will not help. */
        CLIENT_ERROR,
        /** The cost ledger has reached the budget. */
        BUDGET_EXHAUSTED,
        /** A replay has no recording for the iteration. */
        NO_RECORDING;

        /** Whether a retry may succeed. */
        public boolean retryable() {
            return switch (this) {
                case RATE_LIMITED, SERVER_ERROR, TIMEOUT, NETWORK, MALFORMED_RESPONSE -> true;
                case CLIENT_ERROR, BUDGET_EXHAUSTED, NO_RECORDING -> false;
            };
        }
    }

    /** What failed, and so whether a retry may succeed. */
    private final Kind kind;

    /** A failure of the given kind; line breaks in the message are replaced by spaces. */
    public LlmException(Kind kind, String message) {
        this(kind, message, null);
    }

    /** Same, keeping the low-level cause. */
    public LlmException(Kind kind, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** Why it failed. */
    public Kind kind() {
        return kind;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n\\t]+", " ").strip();
    }
}
