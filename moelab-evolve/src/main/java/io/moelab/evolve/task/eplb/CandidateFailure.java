package io.moelab.evolve.task.eplb;

import java.io.Serial;

/** A candidate program failed in a way the harness reports as metrics ({@code error}, {@code error_message}). */
final class CandidateFailure extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    /** What went wrong, as written to the {@code error} key. */
    enum Kind {
        /** javac rejected the program (or it needs classes it may not use). */
        COMPILE_ERROR("compile_error"),
        /** The candidate threw, or failed to link at run time. */
        EXCEPTION("exception"),
        /** The candidate returned a placement that breaks the contract. */
        INVALID_OUTPUT("invalid_output"),
        /** No public class implementing BalancerAlgorithm with a public no-argument constructor. */
        NO_ALGORITHM("no_algorithm");

        private final String key;

        Kind(String key) {
            this.key = key;
        }

        /** The value of the {@code error} metric. */
        String key() {
            return key;
        }
    }

    private final Kind kind;

    CandidateFailure(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }
}
