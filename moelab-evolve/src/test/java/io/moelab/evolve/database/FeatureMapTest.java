package io.moelab.evolve.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** MAP-Elites coordinates worked out by hand. */
class FeatureMapTest {

    private static Program program(String id, String code, Map<String, Double> metrics) {
        return new Program(id, code, null, 0, 0, 0, metrics, null, "", null);
    }

    @Test
    void cellsCutTheObservedRangeIntoBins() {
        FeatureMap map = new FeatureMap(List.of("a", "b"), 4, p -> 0);
        // Nothing observed yet: one bin.
        assertThat(map.cell(new double[] {3, 7})).isEqualTo("0,0");
        map.observe(new double[] {0, 5});
        map.observe(new double[] {10, 5});
        // a spans [0, 10] in bins of 2.5; b has no span yet, so every value is bin 0.
        assertThat(map.cell(new double[] {0, 5})).isEqualTo("0,0");
        assertThat(map.cell(new double[] {2.4, 5})).isEqualTo("0,0");
        assertThat(map.cell(new double[] {2.5, 9})).isEqualTo("1,0");
        assertThat(map.cell(new double[] {7.4, 5})).isEqualTo("2,0");
        assertThat(map.cell(new double[] {9.99, 5})).isEqualTo("3,0");
        // The top of the range and values outside it are clamped into the end bins.
        assertThat(map.cell(new double[] {10, 5})).isEqualTo("3,0");
        assertThat(map.cell(new double[] {25, 5})).isEqualTo("3,0");
        assertThat(map.cell(new double[] {-3, 5})).isEqualTo("0,0");
        map.observe(new double[] {5, 9});
        assertThat(map.cell(new double[] {5, 8})).isEqualTo("2,3");
        // Ranges survive a checkpoint.
        FeatureMap restored = new FeatureMap(List.of("a", "b"), 4, p -> 0);
        restored.restore(map.ranges());
        assertThat(restored.cell(new double[] {5, 8})).isEqualTo("2,3");
        assertThat(restored.cell(new double[] {2.5, 6})).isEqualTo("1,1");
    }

    @Test
    void aRangeOfNegativeValuesEndsAtItsLargest() {
        FeatureMap map = new FeatureMap(List.of("a"), 2, p -> 0);
        map.observe(new double[] {-10});
        map.observe(new double[] {-2});
        assertThat(map.ranges()).isDeepEqualTo(new double[][] {{-10}, {-2}});
        // -6 is the middle of [-10, -2]: the upper bin (of [-10, 0] it would be the lower).
        assertThat(map.cell(new double[] {-6})).isEqualTo("1");
        assertThat(map.cell(new double[] {-6.5})).isEqualTo("0");
    }

    /**
     * A range wider than the largest double (metrics from -1e308 to 1e308, each finite) has an infinite span: every
     * value fell into bin 0, the top of the range included, so the axis collapsed to one cell.
     */
    @Test
    void aRangeWiderThanADoubleStillCutsIntoBins() {
        FeatureMap map = new FeatureMap(List.of("a"), 4, p -> 0);
        map.observe(new double[] {-1e308});
        map.observe(new double[] {1e308});
        // The span is 2e308 in bins of 5e307.
        assertThat(map.cell(new double[] {-1e308})).isEqualTo("0");
        assertThat(map.cell(new double[] {-4e307})).isEqualTo("1");
        assertThat(map.cell(new double[] {0})).isEqualTo("2");
        assertThat(map.cell(new double[] {6e307})).isEqualTo("3");
        assertThat(map.cell(new double[] {1e308})).isEqualTo("3");
        assertThat(map.cell(new double[] {Double.MAX_VALUE})).isEqualTo("3");
        assertThat(map.cell(new double[] {-Double.MAX_VALUE})).isEqualTo("0");
    }

    @Test
    void neighboursDifferByAtMostOneInEveryCoordinate() {
        assertThat(FeatureMap.adjacent("1,2", "2,3")).isTrue();
        assertThat(FeatureMap.adjacent("0,0", "1,0")).isTrue();
        assertThat(FeatureMap.adjacent("3,2", "2,2")).isTrue();
        assertThat(FeatureMap.adjacent("1,2", "1,2")).isFalse();
        assertThat(FeatureMap.adjacent("1,2", "3,2")).isFalse();
        assertThat(FeatureMap.adjacent("1,2", "2,0")).isFalse();
        assertThat(FeatureMap.adjacent("1", "1,2")).isFalse();
        assertThat(FeatureMap.adjacent("4", "5")).isTrue();
    }

    @Test
    void rawValuesAreLengthJaccardDistanceAndMetrics() {
        FeatureMap map = new FeatureMap(List.of(FeatureMap.COMPLEXITY, FeatureMap.DIVERSITY, "speed"), 10, p -> 0);
        // Trigrams of tokens: a has {a b c, b c d}, b has {a b c, b c e}, c is a's code again, d has none.
        Program a = program("a", "a b c d", Map.of("speed", 0.25));
        Program b = program("b", "a b c e", Map.of());
        Program c = program("c", "a(b, c) d", Map.of());
        Program d = program("d", "x y", Map.of());
        double[] raw = map.raw(a, List.of(a, b));
        // Complexity: the code's length. Diversity: a itself is skipped; against b, 1 common of 3: 2/3.
        assertThat(raw[0]).isEqualTo(7);
        assertThat(raw[1]).isCloseTo(2.0 / 3, within(1e-12));
        // A metric as reported; a program that does not report one has no coordinates (it used to read as 0).
        assertThat(raw[2]).isEqualTo(0.25);
        assertThat(map.raw(b, List.of(a))).isNull();
        assertThat(new FeatureMap(List.of("speed", FeatureMap.COMPLEXITY), 10, p -> 0).raw(a, List.of()))
                .containsExactly(0.25, 7);
        // The mean over references: b at 2/3 and c (the same trigrams) at 0.
        assertThat(map.raw(a, List.of(b, c))[1]).isCloseTo(1.0 / 3, within(1e-12));
        // No trigrams on either side: distance 0; against a, all of a's trigrams are missing: 1.
        FeatureMap lengthAndDiversity = new FeatureMap(List.of(FeatureMap.COMPLEXITY, FeatureMap.DIVERSITY), 10,
                p -> 0);
        assertThat(lengthAndDiversity.raw(d, List.of(program("e", "z", Map.of())))[1]).isEqualTo(0);
        assertThat(lengthAndDiversity.raw(d, List.of(a))[1]).isEqualTo(1);
        // No references: 0.
        assertThat(map.raw(a, List.of())[1]).isEqualTo(0);
    }

    @Test
    void scoreIsTheFitnessNotAMetricOfThatName() {
        // The fitness function stands in for the database's: the metric "f", else -infinity.
        FeatureMap map = new FeatureMap(List.of(FeatureMap.SCORE, FeatureMap.COMPLEXITY), 10,
                p -> p.metrics().getOrDefault("f", Double.NEGATIVE_INFINITY));
        assertThat(map.raw(program("a", "abc", Map.of("f", 0.75, "score", 9.0)), List.of())).containsExactly(0.75, 3);
        // No finite fitness: no place in the grid (an infinite end would make every later range infinite).
        assertThat(map.raw(program("b", "abc", Map.of("score", 9.0)), List.of())).isNull();
    }
}
