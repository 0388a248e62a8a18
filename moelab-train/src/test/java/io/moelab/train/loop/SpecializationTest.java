package io.moelab.train.loop;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SpecializationTest {
    @Test
    void distancesByHand() {
        Map<String, long[][][]> d = new LinkedHashMap<>();
        // One layer of 2 experts. Domain a: halves (3,1) and (1,3) -> whole (4,4) = (0.5, 0.5); halves differ by
        // TV 0.5. Domain b: halves (2,0) and (2,0) -> whole (1, 0); halves alike.
        d.put("a", new long[][][] {{{3, 1}}, {{1, 3}}});
        d.put("b", new long[][][] {{{2, 0}}, {{2, 0}}});
        Specialization s = Specialization.of(d);
        assertThat(s.betweenDomains()[0]).isCloseTo(0.5, within(1e-12));
        assertThat(s.withinDomain()[0]).isCloseTo(0.25, within(1e-12));
        assertThat(Specialization.distance(new double[] {1, 0}, new double[] {0, 1})).isEqualTo(1.0);
    }

    /** A domain of one validation window has no second half: it adds nothing to the within-domain distance. */
    @Test
    void aDomainOfOneWindowIsNotAHalfApartFromItself() {
        Map<String, long[][][]> d = new LinkedHashMap<>();
        d.put("a", new long[][][] {{{3, 1}}, {{1, 3}}});
        d.put("b", new long[][][] {{{2, 0}}, {{2, 0}}});
        d.put("c", new long[][][] {{{0, 4}}, {{0, 0}}});
        Specialization s = Specialization.of(d);
        // Between: a-b 0.5, a-c 0.5, b-c 1.0. Within: a 0.5 and b 0, c left out (not 0.5 from empty shares).
        assertThat(s.betweenDomains()[0]).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(s.withinDomain()[0]).isCloseTo(0.25, within(1e-12));
        Map<String, long[][][]> single = new LinkedHashMap<>();
        single.put("a", new long[][][] {{{3, 1}}, {{0, 0}}});
        single.put("b", new long[][][] {{{2, 0}}, {{0, 0}}});
        assertThat(Specialization.of(single).withinDomain()[0]).isNaN();
        // Nor one whose first half is the empty one.
        d.put("c", new long[][][] {{{0, 0}}, {{0, 4}}});
        assertThat(Specialization.of(d).withinDomain()[0]).isCloseTo(0.25, within(1e-12));
    }

    /** No domain, no layer measured. */
    @Test
    void noDomainsMeasureNothing() {
        Specialization s = Specialization.of(Map.of());
        assertThat(s.betweenDomains()).isEmpty();
        assertThat(s.withinDomain()).isEmpty();
    }

    /** One domain has no other to differ from: no distance between domains, rather than 0 (routing alike). */
    @Test
    void aSingleDomainHasNoDistanceBetweenDomains() {
        Specialization s = Specialization.of(Map.of("a", new long[][][] {{{3, 1}}, {{1, 3}}}));
        assertThat(s.betweenDomains()[0]).isNaN();
        assertThat(s.withinDomain()[0]).isCloseTo(0.5, within(1e-12));
    }
}
