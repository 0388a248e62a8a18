package io.moelab.evolve.prompt;

/**
 * The two messages sent to the model for one iteration.
 *
 * @param system the system message
 * @param user   the user message
 */
public record Prompt(String system, String user) {
}
