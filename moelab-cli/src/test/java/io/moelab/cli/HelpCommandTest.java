package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code moelab help WORDS...} prints the usage help of the command the words name, as {@code WORDS... --help} does.
 * picocli's help command read one word: {@code help eplb rebalance} printed {@code eplb}'s help.
 */
class HelpCommandTest {
    @Test
    void theHelpOfACommandAtAnyDepthIsItsOwnHelp() {
        for (List<String> path : List.of(List.<String>of(), List.of("eplb"), List.of("eplb", "rebalance"),
                List.of("sim", "sweep"), List.of("evolve", "init"), List.of("perplexity"))) {
            Result help = CliRunner.run(concat(List.of("help"), path));
            Result own = CliRunner.run(concat(path, List.of("--help")));
            assertThat(help.exitCode()).as("help %s", path).isZero();
            assertThat(help.out()).as("help %s", path).isEqualTo(own.out()).isNotBlank();
        }
        assertThat(CliRunner.run("help", "eplb", "rebalance").out()).startsWith("Usage: moelab eplb rebalance");
    }

    @Test
    void anUnknownWordIsBadInputNamingItAndTheCommandsThere() {
        Result r = CliRunner.run("help", "eplb", "rebalanse");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().findFirst().orElseThrow()).startsWith(
                "error: 'moelab eplb' has no command 'rebalanse' (its commands: ").contains("rebalance");
        assertThat(r.err().lines().count()).isEqualTo(1);
    }

    private static String[] concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }
}
