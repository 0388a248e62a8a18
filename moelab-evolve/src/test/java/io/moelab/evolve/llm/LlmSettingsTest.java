package io.moelab.evolve.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Defaults and validation of models and settings. */
class LlmSettingsTest {
    private static final LlmModel M = new LlmModel("m", 1, "http://127.0.0.1:1/v1", null, 0, 0);

    @Test
    void defaults() {
        LlmSettings s = LlmSettings.defaults(List.of(M));
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(s.retries()).isEqualTo(3);
        assertThat(s.retryDelay()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.maxRetryDelay()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.budgetUsd()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(s.hasBudget()).isFalse();
        assertThat(s.temperature()).isEqualTo(0.7);
        assertThat(s.topP()).isEqualTo(0.95);
        assertThat(s.maxTokens()).isEqualTo(4096);
        assertThat(s.seed()).isEqualTo(42);
        assertThat(s.withSeed(7).withMaxTokens(10).withTemperature(0).withTopP(1).withBudgetUsd(5))
                .isEqualTo(new LlmSettings(List.of(M), s.timeout(), 3, s.retryDelay(), s.maxRetryDelay(), 5, 0, 1,
                        10, 7));
    }

    @Test
    void settingsValidation() {
        LlmSettings s = LlmSettings.defaults(List.of(M));
        assertThatThrownBy(() -> LlmSettings.defaults(List.of())).hasMessageStartingWith("llm.models:");
        assertThatThrownBy(() -> s.withModels(List.of(M, M))).hasMessageContaining("listed twice");
        assertThatThrownBy(() -> s.withTimeout(Duration.ZERO)).hasMessage("llm.timeout: must be positive, got 0 s");
        assertThatThrownBy(() -> s.withRetryDelay(Duration.ofMillis(-1500)))
                .hasMessage("llm.retry_delay: must be at least 0, got -1.5 s");
        assertThatThrownBy(() -> s.withRetries(-1)).hasMessageStartingWith("llm.retries:");
        assertThatThrownBy(() -> s.withRetryDelay(Duration.ofMinutes(5)))
                .hasMessageStartingWith("llm.max_retry_delay:");
        assertThatThrownBy(() -> s.withBudgetUsd(-1)).hasMessageStartingWith("llm.budget_usd:");
        assertThatThrownBy(() -> s.withBudgetUsd(Double.NaN)).hasMessageStartingWith("llm.budget_usd:");
        assertThatThrownBy(() -> s.withTemperature(3)).hasMessageStartingWith("llm.temperature:");
        // The ends of the ranges are in them.
        assertThat(s.withTemperature(2).withTopP(1).temperature()).isEqualTo(2);
        assertThatThrownBy(() -> s.withTemperature(Math.nextUp(2.0))).hasMessageStartingWith("llm.temperature:");
        assertThatThrownBy(() -> s.withTopP(Math.nextUp(1.0))).hasMessageStartingWith("llm.top_p:");
        assertThatThrownBy(() -> s.withTopP(0)).hasMessageStartingWith("llm.top_p:");
        assertThatThrownBy(() -> s.withMaxTokens(0)).hasMessageStartingWith("llm.max_tokens:");
        assertThatThrownBy(() -> s.withRetries(-1)).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void modelValidationAndHelpers() {
        assertThatThrownBy(() -> new LlmModel(" ", 1, "http://x/v1", null, 0, 0))
                .hasMessageStartingWith("llm.models.name:");
        assertThatThrownBy(() -> M.withWeight(0)).hasMessageStartingWith("llm.models[m].weight:");
        assertThatThrownBy(() -> M.withWeight(Double.POSITIVE_INFINITY)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new LlmModel("m", 1, "ftp://x", null, 0, 0))
                .hasMessageStartingWith("llm.models[m].api_base:");
        assertThatThrownBy(() -> new LlmModel("m", 1, "http://x", null, -1, 0))
                .hasMessageStartingWith("llm.models[m].input_usd_per_million:");
        assertThat(new LlmModel("m", 1, "http://h:1/v1///", "", 0, 0).apiKeyEnv()).isNull();
        assertThat(new LlmModel("m", 1, "http://h:1/v1///", null, 0, 0).chatCompletionsUrl())
                .isEqualTo("http://h:1/v1/chat/completions");
        assertThat(new LlmModel("m", 1, "http://h/v1", null, 3, 15).costUsd(1_000_000, 2_000_000)).isEqualTo(33.0);
    }
}
