package io.moelab.evolve.llm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * One model behind an OpenAI-compatible endpoint.
 *
 * @param name                the model name sent in requests (e.g. {@code gpt-4o-mini}, {@code qwen2.5-coder:7b})
 * @param weight              relative probability of being chosen by an ensemble; positive
 * @param apiBase             base URL such as {@code http://127.0.0.1:8080/v1}; requests go to
 *                            {@code apiBase + "/chat/completions"} (a trailing slash is tolerated)
 * @param apiKeyEnv           name of the environment variable holding the API key, or null to send no
 *                            {@code Authorization} header (Ollama, local vLLM)
 * @param inputUsdPerMillion  price of a million prompt tokens in US dollars; 0 for local models
 * @param outputUsdPerMillion price of a million completion tokens in US dollars
 */
public record LlmModel(
        String name,
        double weight,
        String apiBase,
        String apiKeyEnv,
        double inputUsdPerMillion,
        double outputUsdPerMillion) {

    /** Validates every field; errors name the field. */
    public LlmModel {
        if (name == null || name.isBlank()) {
            throw new InvalidInputException("llm.models.name", "must not be empty");
        }
        String f = "llm.models[" + name + "].";
        if (!(weight > 0) || !Double.isFinite(weight)) {
            throw new InvalidInputException(f + "weight", "must be positive and finite, got " + Numbers.plain(weight));
        }
        if (apiBase == null || apiBase.isBlank()) {
            throw new InvalidInputException(f + "api_base", "must not be empty");
        }
        if (!apiBase.startsWith("http://") && !apiBase.startsWith("https://")) {
            throw new InvalidInputException(f + "api_base", "must start with http:// or https://, got " + apiBase);
        }
        // Checked here, not only by the client, so that the error names the option or key that gave the endpoint.
        try {
            if (new URI(chatCompletionsUrl(apiBase)).getHost() == null) {
                throw new InvalidInputException(f + "api_base", "no host in " + apiBase);
            }
        } catch (URISyntaxException e) {
            throw new InvalidInputException(f + "api_base", "not a valid URL: " + apiBase + " (" + e.getReason() + ")");
        }
        if (apiKeyEnv != null && apiKeyEnv.isBlank()) {
            apiKeyEnv = null;
        }
        if (!(inputUsdPerMillion >= 0) || !Double.isFinite(inputUsdPerMillion)) {
            throw new InvalidInputException(
                    f + "input_usd_per_million", "must be non-negative and finite, got "
                    + Numbers.plain(inputUsdPerMillion));
        }
        if (!(outputUsdPerMillion >= 0) || !Double.isFinite(outputUsdPerMillion)) {
            throw new InvalidInputException(
                    f + "output_usd_per_million", "must be non-negative and finite, got "
                    + Numbers.plain(outputUsdPerMillion));
        }
    }

    /** A free model with no API key, e.g. a local Ollama or vLLM server. */
    public static LlmModel local(String name, String apiBase) {
        return new LlmModel(name, 1.0, apiBase, null, 0, 0);
    }

    /** Cost in US dollars of a call with these token counts. */
    public double costUsd(long promptTokens, long completionTokens) {
        return promptTokens * inputUsdPerMillion / 1e6 + completionTokens * outputUsdPerMillion / 1e6;
    }

    /** The same model with another ensemble weight. */
    public LlmModel withWeight(double w) {
        return new LlmModel(name, w, apiBase, apiKeyEnv, inputUsdPerMillion, outputUsdPerMillion);
    }

    /** The chat-completions URL: {@code apiBase} without trailing slashes, plus {@code /chat/completions}. */
    public String chatCompletionsUrl() {
        return chatCompletionsUrl(apiBase);
    }

    private static String chatCompletionsUrl(String apiBase) {
        String base = apiBase.strip();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + "/chat/completions";
    }
}
