/**
 * The language-model client of the evolution loop: OpenAI-compatible chat completions over
 * {@code java.net.http} (OpenAI, Gemini's OpenAI-compatible endpoint, vLLM, Ollama, llama.cpp server), with
 * retries and back-off, a weighted ensemble of models, a thread-safe cost ledger with a budget, and
 * recording/replay of completions as JSON lines for reproducible runs.
 */
package io.moelab.evolve.llm;
