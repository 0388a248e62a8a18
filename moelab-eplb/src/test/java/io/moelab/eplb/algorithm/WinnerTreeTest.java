package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link WinnerTree} against a linear scan over the same keys, through the updates the packer makes. */
class WinnerTreeTest {

    @Test
    void minimumMatchesALinearScanUnderRandomUpdates() {
        WinnerTree tree = new WinnerTree(); // reused across sizes, like a packer's
        qt().withExamples(600).withFixedSeed(5).forAll(integers().between(1, 700), longs().all())
                .checkAssert((n, seed) -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    long[] keys = new long[n];
                    tree.reset(n);
                    for (int i = 0; i < n; i++) {
                        keys[i] = random.nextInt(4) == 0 ? WinnerTree.NONE : key(random, i);
                        tree.put(i, keys[i]);
                    }
                    tree.rebuild();
                    assertThat(tree.min()).isEqualTo(Arrays.stream(keys).min().orElseThrow());
                    for (int step = 0; step < 200; step++) {
                        // As the packer does: mostly the minimum's leaf, sometimes any leaf; keys or NONE.
                        long min = tree.min();
                        int i = min != WinnerTree.NONE && random.nextBoolean() ? (int) min : random.nextInt(n);
                        keys[i] = random.nextInt(5) == 0 ? WinnerTree.NONE : key(random, i);
                        tree.set(i, keys[i]);
                        assertThat(tree.min()).as("n=%d step=%d", n, step)
                                .isEqualTo(Arrays.stream(keys).min().orElseThrow());
                    }
                });
    }

    @Test
    void anEmptyTreeHasNoMinimum() {
        WinnerTree tree = new WinnerTree();
        for (int n : new int[] {1, 8, 9, 64, 65}) {
            tree.reset(n);
            tree.rebuild();
            assertThat(tree.min()).isEqualTo(WinnerTree.NONE);
            tree.set(n - 1, LongMinHeap.key(2f, n - 1));
            tree.set(0, LongMinHeap.key(1f, 0));
            assertThat(tree.min()).isEqualTo(LongMinHeap.key(1f, 0));
            tree.set(0, WinnerTree.NONE);
            assertThat(tree.min()).isEqualTo(n == 1 ? WinnerTree.NONE : LongMinHeap.key(2f, n - 1));
        }
    }

    /** A key for leaf i, with frequent equal loads so that ties are broken by the index. */
    private static long key(SplittableRandom random, int i) {
        return LongMinHeap.key(random.nextInt(6) * 0.5f, i);
    }
}
