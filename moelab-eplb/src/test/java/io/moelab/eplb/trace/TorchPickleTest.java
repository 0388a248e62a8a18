package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.moelab.eplb.trace.TorchPickle.Malformed;
import io.moelab.eplb.trace.TorchPickle.None;
import io.moelab.eplb.trace.TorchPickle.Tuple;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The pickle reader on its own, against pickles that Python's pickle module wrote ({@code torch/pickle/make_pickles.py}
 * says how): each value as Python put it in, the memo entries got again found by the first scan.
 */
class TorchPickleTest {
    private static byte[] resource(String name) throws IOException {
        try (InputStream in = TorchPickleTest.class.getResourceAsStream("torch/pickle/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static TorchPickle.Input input(byte[] pickle) {
        ByteArrayInputStream in = new ByteArrayInputStream(pickle);
        return in::read;
    }

    /** A streamed reading of {@code pickle}, as TorchTraces reads one: the records handed out into {@code records}. */
    private static TorchPickle read(byte[] pickle, List<Object> records) throws Malformed, IOException {
        Set<Long> got = TorchPickle.gets(input(pickle), pickle.length);
        TorchPickle p = TorchPickle.open(input(pickle), pickle.length, got);
        for (Object r; (r = p.next()) != null; ) {
            records.add(r);
        }
        assertThat(p.position()).isEqualTo(pickle.length);
        return p;
    }

    private static Object parse(byte[] pickle) throws Malformed, IOException {
        return read(pickle, new ArrayList<>()).result();
    }

    private static Tuple tuple(Object... items) {
        return new Tuple(List.of(items));
    }

    @Test
    void everyAtomAsPythonWroteIt() throws Exception {
        Object top = parse(resource("atoms.pkl"));
        assertThat(top).isInstanceOf(Map.class);
        Map<?, ?> dict = (Map<?, ?>) top;
        assertThat(List.copyOf(dict.keySet())).isEqualTo(List.of("ints", "floats", "b", "t"));
        assertThat(dict.get("ints")).isEqualTo(List.of(0L, 1L, 255L, 256L, 65535L, 65536L, -1L, -129L,
                (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE, 1L << 31, -(1L << 31) - 1, 1L << 40, -(1L << 40),
                Long.MAX_VALUE, Long.MIN_VALUE));
        assertThat(dict.get("floats")).isEqualTo(List.of(0.5, -1e300, 1.0));
        assertThat(dict.get("b")).isEqualTo(List.of(true, false, None.NONE));
        assertThat(dict.get("t")).isEqualTo(tuple(tuple(), tuple(1L), tuple(1L, 2L), tuple(1L, 2L, 3L),
                tuple(1L, 2L, 3L, 4L)));
    }

    /** Python gets a string again after each opcode that has operands: the first scan must skip each's exactly. */
    @Test
    void entriesGotAgainAfterEveryOperandAreFound() throws Exception {
        byte[] pickle = resource("memo.pkl");
        Set<Long> got = TorchPickle.gets(input(pickle), pickle.length);
        // BINGET 1 ("shared"), BINGET 5 ("k0"), LONG_BINGET 304 ("k299"): no other entry is got.
        assertThat(got).containsExactlyInAnyOrder(1L, 5L, 304L);
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            many.add("k" + i);
        }
        String s = "shared";
        assertThat(parse(pickle)).isEqualTo(List.of(s, 0.5, s, 1L << 40, s, 300L, s, 70000L, s, "xyz", s, true, s,
                tuple(1L, 2L), s, many, "k0", "k299", -5L, "k299", tuple(s, 7L)));
    }

    /**
     * A dump's records, appended by Python in batches of 1,000, are handed out in order, their keys got from the
     * memo; a list inside a record (a per_token pass's token ids) is counted, not kept; the top dict keeps the rest.
     */
    @Test
    void recordsAreHandedOutInOrderAcrossPythonsBatches() throws Exception {
        List<Object> records = new ArrayList<>();
        TorchPickle p = read(resource("records.pkl"), records);
        assertThat(p.recordCount()).isEqualTo(1200);
        assertThat(records).hasSize(1200);
        for (int i = 0; i < records.size(); i++) {
            assertThat(records.get(i)).as("record %d", i).isEqualTo(Map.of("rank", 0L, "forward_pass_id", (long) i,
                    "share", 0.25 * i, "ids", List.of()));
        }
        Map<?, ?> top = (Map<?, ?>) p.result();
        assertThat(top).isEqualTo(Map.of("records", List.of(), "tail", "end"));
        assertThat(p.streamed(top.get("records"))).isTrue();
        assertThat(p.streamed(new ArrayList<>())).isFalse();
        assertThat(p.streamed(null)).isFalse();
    }

    private static void assertMalformed(byte[] pickle, String message) {
        assertThatThrownBy(() -> parse(pickle)).isInstanceOf(Malformed.class).hasMessage(message);
    }

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    /** pickle.dumps(2**64, protocol=2) and pickle.dumps(-2**63 - 1, protocol=2): LONG1 of 9 bytes, past a long. */
    @Test
    void anIntegerPastALongIsRefused() {
        assertMalformed(bytes(0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, '.'),
                "pickle has an integer of 9 bytes at byte 2, too large for a count");
        assertMalformed(bytes(0x80, 2, 0x8a, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, '.'),
                "pickle has an integer of 9 bytes at byte 2, too large for a count");
    }

    /**
     * pickle.dumps(-2**39, protocol=2): LONG1 of 5 bytes whose last is exactly 0x80, the least that makes it negative.
     * A string of MAX_STRING bytes is read, one byte more refused.
     */
    @Test
    void theEdgesOfSignsAndStringLengths() throws Exception {
        assertThat(parse(bytes(0x80, 2, 0x8a, 5, 0, 0, 0, 0, 0x80, '.'))).isEqualTo(-(1L << 39));
        assertThat(parse(bytes(0x80, 2, 0x8a, 5, 0, 0, 0, 0, 0x7f, '.'))).isEqualTo(0x7fL << 32);
        for (int n : new int[] {TorchPickle.MAX_STRING, TorchPickle.MAX_STRING + 1}) {
            byte[] pickle = new byte[2 + 5 + n + 1];
            System.arraycopy(bytes(0x80, 2, 'X', n & 0xff, n >> 8 & 0xff, n >> 16 & 0xff, 0), 0, pickle, 0, 7);
            java.util.Arrays.fill(pickle, 7, 7 + n, (byte) 'a');
            pickle[7 + n] = '.';
            if (n == TorchPickle.MAX_STRING) {
                assertThat(parse(pickle)).isEqualTo("a".repeat(n));
            } else {
                assertMalformed(pickle, "pickle has a string of " + n + " bytes at byte 2, more than the "
                        + TorchPickle.MAX_STRING + " read (torch.save's keys and names are short)");
            }
        }
    }

    private static final String TOO_MANY = "pickle holds more than " + TorchPickle.MAX_VALUES + " values at once, "
            + "more than are read (an SGLang dump's holds a batch of 1,000 forward passes, about 22,000)";

    /**
     * Tuples that hold a tuple got again from the memo twice, 60 deep: 250 bytes. Each tuple's weight was the sum of
     * its items' weights, counted again through every path to them (2^60 items), so appending the last to a list
     * never ended. A tuple now counts what it weighs when got again, and the pickle is refused as holding more
     * values than are read.
     */
    @Test
    void tuplesOfTuplesGotAgainAreRefusedNotCountedForever() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(0x80, 2, ']', 'K', 1, 'K', 1, 0x86, 'q', 0));
        for (int k = 1; k <= 60; k++) {
            out.writeBytes(bytes('h', k - 1, 0x86, 'q', k));
        }
        out.writeBytes(bytes('a', '.'));
        byte[] pickle = out.toByteArray();
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertMalformed(pickle, TOO_MANY));
    }

    /**
     * A tuple in a tuple 200,000 deep (TUPLE1 after TUPLE1, 200 KB, a few hundred bytes deflated) appended to a list:
     * its weight was counted recursively, a StackOverflowError. Now read, each tuple's weight kept as it is made.
     */
    @Test
    void aTupleNestedDeepIsReadWithoutRecursion() throws Exception {
        int depth = 200_000;
        byte[] pickle = new byte[2 + 1 + 2 + depth + 2];
        System.arraycopy(bytes(0x80, 2, ']', 'K', 1), 0, pickle, 0, 5);
        java.util.Arrays.fill(pickle, 5, 5 + depth, (byte) 0x85);
        pickle[5 + depth] = 'a';
        pickle[6 + depth] = '.';
        Object top = parse(pickle);
        assertThat(top).isInstanceOf(List.class);
        Object o = ((List<?>) top).getFirst();
        int d = 0;
        while (o instanceof Tuple t) {
            assertThat(t.items()).hasSize(1);
            o = t.items().getFirst();
            d++;
        }
        assertThat(d).isEqualTo(depth);
        assertThat(o).isEqualTo(1L);
    }

    /**
     * BINGET pushed what it got without counting it: a list appended to itself 300,000 times (600 KB, a few KB
     * deflated) held 300,000 references past the bound of values held. Each got value now counts.
     */
    @Test
    void valuesGotAgainCountTowardTheValuesHeld() {
        int gets = TorchPickle.MAX_VALUES + 100;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(0x80, 2, ']', 'q', 0, '('));
        for (int i = 0; i < gets; i++) {
            out.writeBytes(bytes('h', 0));
        }
        out.writeBytes(bytes('e', '.'));
        assertMalformed(out.toByteArray(), TOO_MANY);
    }
}
