package io.moelab.cli.eplb;

import io.moelab.eplb.algorithm.Algorithms;
import java.util.Iterator;

/** The registered algorithm names, for help texts. */
final class AlgorithmNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return Algorithms.names().iterator();
    }
}
