package io.moelab.evolve.edit;

import java.util.Objects;

/**
 * One SEARCH/REPLACE block of an answer.
 *
 * @param index   0-based position of the block among the SEARCH lines of the answer (skipped malformed blocks
 *                keep their numbers, so messages about later blocks still point at the right one)
 * @param search  the lines to find, joined with {@code \n}, without a final newline
 * @param replace the lines to put in their place, joined the same way; empty to delete
 */
public record EditBlock(int index, String search, String replace) {
    /** Checks that both texts are present. */
    public EditBlock {
        Objects.requireNonNull(search, "search");
        Objects.requireNonNull(replace, "replace");
    }
}
