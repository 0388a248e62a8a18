package io.moelab.evolve.llm;

/**
 * A successful chat completion.
 *
 * @param model            name of the model that answered
 * @param content          the text of the answer
 * @param promptTokens     prompt tokens (reported by the server, or estimated as characters / 4)
 * @param completionTokens completion tokens (reported, or estimated the same way)
 * @param costUsd          cost of the call in US dollars
 * @param attempts         HTTP attempts it took, 1 when the first succeeded
 */
public record Completion(
        String model, String content, long promptTokens, long completionTokens, double costUsd, int attempts) {}
