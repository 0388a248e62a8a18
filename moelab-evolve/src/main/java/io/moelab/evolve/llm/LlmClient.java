package io.moelab.evolve.llm;

import java.util.List;

/** Something that answers a chat prompt. Implementations are thread-safe. */
public interface LlmClient {

    /**
     * Completes a chat.
     *
     * @param messages  the prompt
     * @param iteration the evolution iteration asking; it seeds sampling and model choice, and keys replays
     * @return the answer
     * @throws LlmException when no answer could be had (after any retries)
     */
    Completion complete(List<ChatMessage> messages, int iteration) throws LlmException;
}
