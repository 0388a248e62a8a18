package io.moelab.evolve.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeededRandomTest {

    private static long[] draws(SeededRandom r, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = r.nextLong();
        }
        return out;
    }

    @Test
    void isSplitMix64() {
        // Reference values of SplitMix64 (Steele, Lea and Flood) for seed 0 and seed 1234567.
        SeededRandom r = new SeededRandom(0);
        assertThat(r.nextLong()).isEqualTo(0xE220A8397B1DCDAFL);
        assertThat(r.nextLong()).isEqualTo(0x6E789E6AA1B965F4L);
        assertThat(r.nextLong()).isEqualTo(0x06C45D188009454FL);
        SeededRandom s = new SeededRandom(1234567);
        assertThat(s.nextLong()).isEqualTo(6457827717110365317L);
        assertThat(s.nextLong()).isEqualTo(3203168211198807973L);
    }

    @Test
    void iterationStreamsDoNotDependOnCallOrder() {
        long seed = 99;
        List<long[]> inOrder = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            inOrder.add(draws(SeededRandom.forIteration(seed, i), 8));
        }
        // Backwards, with extra draws from other iterations in between.
        for (int i = 19; i >= 0; i--) {
            draws(SeededRandom.forIteration(seed, i + 7), i);
            assertThat(draws(SeededRandom.forIteration(seed, i), 8)).isEqualTo(inOrder.get(i));
        }
        assertThat(draws(SeededRandom.forIteration(seed + 1, 3), 8)).isNotEqualTo(inOrder.get(3));
    }

    @Test
    void seedsThatDifferInAnyOneBitGiveDifferentIterationStreams() {
        // Every bit of the seed counts: runs seeded 0 and 2^40 must not make the same choices.
        for (int bit = 0; bit < 64; bit++) {
            for (long iteration : new long[] {0, 1, 1000}) {
                assertThat(draws(SeededRandom.forIteration(1L << bit, iteration), 4)).as("bit %d", bit)
                        .isNotEqualTo(draws(SeededRandom.forIteration(0, iteration), 4));
            }
        }
    }

    @Test
    void iterationStreamsDoNotOverlap() {
        // Iteration i must not replay iteration j's numbers shifted by a few draws, or consecutive iterations
        // would make correlated choices.
        qt().withExamples(200).withFixedSeed(5).forAll(longs().all(), longs().between(0, 1_000_000))
                .checkAssert((seed, iteration) -> {
                    Set<Long> seen = new HashSet<>();
                    for (int k = 0; k < 4; k++) {
                        for (long v : draws(SeededRandom.forIteration(seed, iteration + k), 32)) {
                            assertThat(seen.add(v)).as("value repeated across iterations").isTrue();
                        }
                    }
                });
    }

    @Test
    void nextIntStaysInBoundsAndCoversThem() {
        qt().withExamples(300).withFixedSeed(6).forAll(longs().all(), integers().between(1, 1000))
                .checkAssert((seed, bound) -> {
                    SeededRandom r = new SeededRandom(seed);
                    for (int k = 0; k < 50; k++) {
                        assertThat(r.nextInt(bound)).isBetween(0, bound - 1);
                    }
                });
        SeededRandom r = new SeededRandom(3);
        int[] counts = new int[7];
        for (int k = 0; k < 70_000; k++) {
            counts[r.nextInt(7)]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(9_500, 10_500);
        }
        assertThat(new SeededRandom(1).nextInt(1)).isZero();
        assertThat(new SeededRandom(1).nextInt(Integer.MAX_VALUE)).isBetween(0, Integer.MAX_VALUE - 1);
        assertThatThrownBy(() -> new SeededRandom(1).nextInt(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SeededRandom(1).nextInt(-5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nextDoubleIsInTheUnitInterval() {
        SeededRandom r = new SeededRandom(17);
        double sum = 0;
        int n = 100_000;
        for (int k = 0; k < n; k++) {
            double d = r.nextDouble();
            assertThat(d).isGreaterThanOrEqualTo(0).isLessThan(1);
            sum += d;
        }
        assertThat(sum / n).isBetween(0.49, 0.51);
    }

    @Test
    void pickChoosesEveryElementAndOnlyThose() {
        List<String> items = List.of("a", "b", "c");
        SeededRandom r = new SeededRandom(8);
        int[] counts = new int[3];
        for (int k = 0; k < 3000; k++) {
            counts[items.indexOf(r.pick(items))]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(900, 1100);
        }
        assertThat(new SeededRandom(2).pick(List.of("only"))).isEqualTo("only");
        assertThatThrownBy(() -> new SeededRandom(2).pick(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
