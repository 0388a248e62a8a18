package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Digests of results, one {@code CASE DIGEST} line per case, recorded in a test resource beside the test class: the
 * golden tests' comparison, and, with {@code -Dmoelab.golden.write=FILE}, their re-recording.
 */
final class GoldenDigests {
    private GoldenDigests() {
    }

    /**
     * Asserts that {@code actual} equals the digests recorded in {@code owner}'s resource {@code resource}, case by
     * case and in order; writes {@code actual} to the file {@code moelab.golden.write} names first, if set.
     *
     * @param what the results, for the message ("placement")
     */
    static void assertMatch(Class<?> owner, String resource, Map<String, String> actual, String what)
            throws IOException {
        String write = System.getProperty("moelab.golden.write");
        if (write != null) {
            StringBuilder out = new StringBuilder();
            actual.forEach((k, v) -> out.append(k).append(' ').append(v).append('\n'));
            Files.writeString(Path.of(write), out);
        }
        Map<String, String> expected = new LinkedHashMap<>();
        try (InputStream in = owner.getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    int space = line.lastIndexOf(' ');
                    expected.put(line.substring(0, space), line.substring(space + 1));
                }
            }
        }
        List<String> differing = new ArrayList<>();
        actual.forEach((k, v) -> {
            if (!v.equals(expected.get(k))) {
                differing.add(k);
            }
        });
        assertThat(differing).as("cases whose %s changed (of %d)", what, actual.size()).isEmpty();
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
    }
}
