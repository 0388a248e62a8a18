package io.moelab.eplb.trace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A strict reader of the pickle that {@code torch.save} writes as {@code data.pkl}: protocol 2, holding dicts, lists,
 * tuples, numbers, strings, None and tensors. It runs no code: the only globals it knows are the few torch refers to
 * ({@code torch._utils._rebuild_tensor_v2}, {@code torch.*Storage}, {@code collections.OrderedDict}), and a tensor is
 * read as a description of where its elements lie ({@link Tensor}), not as its data. Any other opcode or global is
 * refused, as is a pickle that does not end at its {@code STOP}.
 *
 * <p>An SGLang per_pass or per_token dump pickles {@code {"records": [one dict per forward pass], ...}}, any number of
 * them: read {@linkplain #open streamed}, the records of that list are handed out one at a time ({@link #next}) as
 * the pickle completes them (torch.save appends them in batches of 1,000), not held, and the lists inside a record
 * (a per_token pass's token ids and positions) are counted, not kept. What is held at once is bounded apart from the
 * number of records: {@link #MAX_VALUES} values, the memo only for the entries the pickle gets again (found by a
 * first scan, {@link #gets}), and no string past {@link #MAX_STRING} bytes.
 */
final class TorchPickle {
    /** Python's None. */
    enum None { NONE }

    /**
     * A Python tuple, with what it weighs ({@link #weight(Object)}) and whether it holds no container, both found as
     * it is made from its items' own: a tuple may hold another got again from the memo, so walking its items would
     * count one tuple once for every path to it (2^60 times from a few hundred bytes), or recurse as deep as the
     * tuples nest.
     */
    static final class Tuple {
        private final List<Object> items;
        private final int weight;
        private final boolean atom;

        Tuple(List<Object> items) {
            this.items = items;
            long w = 1;
            boolean a = true;
            for (Object item : items) {
                // Capped past the bound: a weight above it is refused wherever it counts.
                w = Math.min(w + weight(item), MAX_VALUES + 1L);
                a &= atom(item);
            }
            this.weight = (int) w;
            this.atom = a;
        }

        List<Object> items() {
            return items;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tuple t && items.equals(t.items);
        }

        @Override
        public int hashCode() {
            return items.hashCode();
        }

        @Override
        public String toString() {
            return "Tuple" + items;
        }
    }

    /** A global the pickle refers to, {@code module.name}. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A storage, one zip entry {@code data/KEY}: {@code numel} elements of {@code dtype}. */
    record Storage(Dtype dtype, String key, String location, long numel) {
    }

    /** A tensor: {@code size} elements laid out in {@code storage} from {@code offset} with {@code stride}. */
    record Tensor(Storage storage, long offset, long[] size, long[] stride) {
    }

    /** Element types, by the legacy storage class torch names in a pickle; {@code bytes} 0 where not read. */
    enum Dtype {
        DOUBLE("DoubleStorage", "float64", 8), FLOAT("FloatStorage", "float32", 4), HALF("HalfStorage", "float16", 0),
        BFLOAT16("BFloat16Storage", "bfloat16", 0), LONG("LongStorage", "int64", 8), INT("IntStorage", "int32", 4),
        SHORT("ShortStorage", "int16", 2), CHAR("CharStorage", "int8", 1), BYTE("ByteStorage", "uint8", 1),
        BOOL("BoolStorage", "bool", 0), COMPLEX_FLOAT("ComplexFloatStorage", "complex64", 0),
        COMPLEX_DOUBLE("ComplexDoubleStorage", "complex128", 0);

        final String storage;
        final String torchName;
        /** Bytes per element, 0 for a type counts are not read from. */
        final int bytes;

        Dtype(String storage, String torchName, int bytes) {
            this.storage = storage;
            this.torchName = torchName;
            this.bytes = bytes;
        }

        static Dtype ofStorage(String name) {
            for (Dtype d : values()) {
                if (d.storage.equals(name)) {
                    return d;
                }
            }
            return null;
        }
    }

    /** A malformed or unsupported pickle; the message says what, without the file. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }

    /** Where a pickle's bytes come from, one at a time: -1 past the end of the stream. */
    @FunctionalInterface
    interface Input {
        int read() throws IOException;
    }

    private static final Object MARK = new Object();
    /** A memo entry of a record already handed out, which is not read again. */
    private static final Object DELIVERED = new Object();
    private static final Global REBUILD = new Global("torch._utils", "_rebuild_tensor_v2");
    private static final Global ORDERED_DICT = new Global("collections", "OrderedDict");
    /** The key of an SGLang per_pass or per_token dump's records. */
    static final String RECORDS = "records";
    /**
     * Most values held at once (marks included, a string counted per 32 bytes): an SGLang per_pass dump holds about
     * 22 a forward pass, a batch of 1,000 (its records are handed out as each batch is appended); its token ids, a
     * per_token pass's, are counted, not kept. Each takes tens of bytes of heap; 2^18 empty dicts, the worst, under
     * 32 MiB.
     */
    static final int MAX_VALUES = 1 << 18;
    /** Most distinct memo entries a pickle gets again: torch.save gets its globals and repeated strings. */
    static final int MAX_GOT = 1 << 16;
    /** Longest string read, in bytes: torch.save's keys, names and storage keys are short. */
    static final int MAX_STRING = 1 << 16;
    /** Longest module or name in a GLOBAL opcode: torch's are short. */
    private static final int MAX_LINE = 200;

    private final Input in;
    /** The pickle's length: reading past it is reading past the pickle. */
    private final long limit;
    private long position;
    /** The memo entries the pickle gets, the only ones kept; null keeps all. */
    private final Set<Long> got;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    /** {@link #values} as each mark was pushed, beside {@link #marks}. */
    private final List<Integer> markValues = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    /** How many values are held, weighed as {@link #MAX_VALUES} says; memo gets aside. */
    private int values;
    /** The top dict's records list when streamed: it stays empty, its items handed out. */
    private List<Object> records;
    /** Where {@link #records} lies on the stack. */
    private int recordsAt = -1;
    private long recordCount;
    /** The values held outside the records, counted once the first batch is handed out; -1 before. */
    private int base = -1;
    private final ArrayDeque<Object> ready = new ArrayDeque<>();
    private Object result;
    private boolean stopped;

    private TorchPickle(Input in, long limit, Set<Long> got) {
        this.in = in;
        this.limit = limit;
        this.got = got;
    }

    /**
     * A reading of the pickle of {@code limit} bytes from {@code in}, its top dict's {@code records} list handed out
     * by {@link #next}; only the memo entries in {@code got} (from {@link #gets}) are kept.
     */
    static TorchPickle open(Input in, long limit, Set<Long> got) {
        return new TorchPickle(in, limit, got);
    }

    /**
     * The memo entries the pickle of {@code limit} bytes from {@code in} gets (BINGET, LONG_BINGET), found without
     * making its values: the first scan of a streamed reading. It stops at the pickle's STOP, at its end or at an
     * opcode that is not read, which the reading itself then reports.
     *
     * @throws Malformed where it gets more than {@link #MAX_GOT} entries
     */
    static Set<Long> gets(Input in, long limit) throws Malformed, IOException {
        TorchPickle p = new TorchPickle(in, limit, null);
        Set<Long> got = new HashSet<>();
        if (p.scanByte() != 0x80 || p.scanByte() != 2) {
            return got;
        }
        while (true) {
            int op = p.scanByte();
            long skip = switch (op) {
                case 'q', 'K' -> 1;
                case 'r', 'J' -> 4;
                case 'M' -> 2;
                case 'G' -> 8;
                case 0x8a -> Math.max(0, p.scanByte());
                case 'X' -> {
                    long n = 0;
                    for (int i = 0; i < 4; i++) {
                        int b = p.scanByte();
                        n |= (long) Math.max(0, b) << (8 * i);
                    }
                    yield n;
                }
                case 'h', 'j' -> {
                    long index = 0;
                    for (int i = 0; i < (op == 'h' ? 1 : 4); i++) {
                        index |= (long) Math.max(0, p.scanByte()) << (8 * i);
                    }
                    got.add(index);
                    if (got.size() > MAX_GOT) {
                        throw new Malformed("pickle gets more than " + MAX_GOT + " of its memo entries again, more "
                                + "than are read (torch.save gets a few dozen: its globals and repeated strings)");
                    }
                    yield 0;
                }
                case 'c' -> {
                    int lines = 0;
                    for (int b = 0; lines < 2 && b >= 0; ) {
                        b = p.scanByte();
                        lines += b == '\n' ? 1 : 0;
                    }
                    yield lines < 2 ? -1 : 0;
                }
                case '(', '}', ']', ')', 't', 0x85, 0x86, 0x87, 's', 'u', 'a', 'e', 'N', 0x88, 0x89, 'R', 'Q' -> 0;
                default -> -1; // STOP, the end, or an opcode the reading refuses
            };
            if (skip < 0 || skip > p.limit - p.position) {
                return got;
            }
            for (long i = 0; i < skip; i++) {
                p.scanByte();
            }
        }
    }

    /** The next byte of a scan, -1 past the pickle's end. */
    private int scanByte() throws IOException {
        if (position >= limit) {
            return -1;
        }
        int b = in.read();
        position++;
        return b;
    }

    /** How many bytes were read. */
    long position() {
        return position;
    }

    /**
     * The next record of the top dict's records list, null once the pickle has stopped ({@link #result} is then the
     * object it holds).
     *
     * @throws Malformed naming the first opcode, global or value that is not read, or the end reached early
     */
    Object next() throws Malformed, IOException {
        while (ready.isEmpty() && !stopped) {
            step();
        }
        return ready.poll();
    }

    /** The object the pickle holds, once {@link #next} has returned null; a streamed records list is empty. */
    Object result() {
        return result;
    }

    /** Whether {@code list} is the records list whose items {@link #next} handed out. */
    boolean streamed(Object list) {
        return list != null && list == records;
    }

    /** How many records {@link #next} handed out. */
    long recordCount() {
        return recordCount;
    }

    private void step() throws Malformed, IOException {
        long at = position;
        int op = u8();
        if (at == 0) {
            if (op != 0x80) {
                throw new Malformed("does not start as a pickle (no PROTO opcode)");
            }
            int protocol = u8();
            if (protocol != 2) {
                throw new Malformed("is pickle protocol " + protocol + ", not 2 as torch.save writes");
            }
            return;
        }
        switch (op) {
            case '.' -> {
                Object top = pop();
                if (!stack.isEmpty() || !marks.isEmpty()) {
                    throw new Malformed("pickle stops with values left on its stack");
                }
                if (position < limit) {
                    throw new Malformed("has " + (limit - position) + " bytes after the pickle's STOP");
                }
                if (records != null && !records.isEmpty()) {
                    throw new Malformed("pickle adds to its records list out of order");
                }
                result = top;
                stopped = true;
            }
            case '(' -> {
                marks.add(stack.size());
                markValues.add(values);
                push(MARK);
            }
            case '}' -> push(new LinkedHashMap<>());
            case ']' -> {
                List<Object> list = new ArrayList<>();
                if (records == null && recordsSlot()) {
                    records = list;
                    recordsAt = stack.size();
                }
                push(list);
            }
            case ')' -> push(new Tuple(List.of()));
            case 't' -> push(new Tuple(popMark()));
            case 0x85, 0x86, 0x87 -> {
                int n = op - 0x84;
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.addFirst(pop());
                }
                push(new Tuple(items));
            }
            case 's' -> {
                Object value = pop();
                Object key = key(pop(), at);
                dict(peek(), at).put(key, value);
            }
            case 'u' -> {
                List<Object> items = popMark();
                if (items.size() % 2 != 0) {
                    throw new Malformed("SETITEMS at byte " + at + " has an odd number of items");
                }
                Map<Object, Object> dict = dict(peek(), at);
                for (int i = 0; i < items.size(); i += 2) {
                    dict.put(key(items.get(i), at), items.get(i + 1));
                }
            }
            case 'a' -> {
                Object value = pop();
                append(list(peek(), at), List.of(value), values - weight(value));
            }
            case 'e' -> {
                int before = markValues.isEmpty() ? values : markValues.getLast();
                List<Object> items = popMark();
                append(list(peek(), at), items, before);
            }
            case 'q' -> put((long) u8());
            case 'r' -> put(u32());
            case 'h' -> pushGot(get(u8(), at));
            case 'j' -> pushGot(get(u32(), at));
            case 'J' -> push((long) (int) u32());
            case 'K' -> push((long) u8());
            case 'M' -> push(requireLeft(2) | u8() | (long) u8() << 8);
            case 0x8a -> push(long1(at));
            // BINFLOAT is big-endian, the rest of the pickle little-endian.
            case 'G' -> {
                long bits = requireLeft(8);
                for (int i = 0; i < 8; i++) {
                    bits = bits << 8 | u8();
                }
                push(Double.longBitsToDouble(bits));
            }
            case 'N' -> push(None.NONE);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'X' -> push(utf8(u32(), at));
            case 'c' -> push(global(at));
            case 'R' -> {
                Object args = pop();
                Object callable = pop();
                push(reduce(callable, args, at));
            }
            case 'Q' -> push(storage(pop(), at));
            default -> throw new Malformed("pickle has opcode 0x" + Integer.toHexString(op) + " at byte " + at
                    + ", which is not read (only the opcodes of torch.save's protocol-2 data)");
        }
    }

    /**
     * Whether a list pushed now is the value of the top dict's {@code records}: the key just below it, and below that
     * the dict alone (SETITEM) or the dict, a mark and key-value pairs (SETITEMS).
     */
    private boolean recordsSlot() {
        int n = stack.size();
        if (n < 2 || !RECORDS.equals(stack.get(n - 1)) || !(stack.get(0) instanceof Map<?, ?>)) {
            return false;
        }
        return n == 2 || (stack.get(1) == MARK && marks.size() == 1 && (n - 1) % 2 == 0);
    }

    /**
     * Appends {@code items} to {@code list}; {@code before} is how many values were held before they were made. The
     * records list hands them out, and a list inside a record (token ids) keeps none: no record's list is read.
     */
    private void append(List<Object> list, List<Object> items, int before) {
        if (list == records) {
            ready.addAll(items);
            recordCount += items.size();
            if (base < 0) {
                base = before;
            }
            // The records handed out are no longer held here: nor are memo entries of theirs but the atoms.
            int kept = 0;
            for (Map.Entry<Long, Object> e : memo.entrySet()) {
                if (atom(e.getValue())) {
                    kept += weight(e.getValue());
                } else if (e.getValue() != records && e.getValue() != stack.getFirst()) {
                    e.setValue(DELIVERED);
                }
            }
            values = base + kept;
        } else if (records != null && stack.size() - 1 > recordsAt && stack.get(recordsAt) == records) {
            for (Object item : items) {
                if (atom(item)) {
                    values -= weight(item);
                }
            }
        } else {
            list.addAll(items);
        }
    }

    /** A value that holds no container: a memo entry of it stays fit to get once its record is handed out. */
    private static boolean atom(Object o) {
        if (o instanceof Tuple t) {
            return t.atom;
        }
        return o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean
                || o == None.NONE || o instanceof Global;
    }

    /**
     * How many values {@code o} counts as: a string one per 32 bytes (as heap goes), a tuple its items too (capped
     * past {@link #MAX_VALUES}).
     */
    private static int weight(Object o) {
        if (o instanceof String s) {
            return 1 + s.length() / 32;
        }
        if (o instanceof Tuple t) {
            return t.weight;
        }
        return 1;
    }

    private void put(long index) throws Malformed {
        Object value = peek();
        if (got == null || got.contains(index)) {
            memo.put(index, value);
        }
    }

    private int u8() throws Malformed, IOException {
        if (position >= limit) {
            throw new Malformed("pickle ends early, at byte " + limit + " (truncated?)");
        }
        int b = in.read();
        if (b < 0) {
            // The entry holds fewer bytes than the zip says, which its reader reports first.
            throw new Malformed("pickle ends early, at byte " + position + " (truncated?)");
        }
        position++;
        return b;
    }

    private long u32() throws Malformed, IOException {
        return requireLeft(4) | u8() | (long) u8() << 8 | (long) u8() << 16 | (long) u8() << 24;
    }

    /** 0, after refusing {@code n} bytes that reach past the pickle's end. */
    private long requireLeft(long n) throws Malformed {
        if (limit - position < n) {
            throw new Malformed("pickle ends early, at byte " + limit + " (truncated?)");
        }
        return 0;
    }

    private long long1(long at) throws Malformed, IOException {
        int n = u8();
        if (n > 8) {
            throw new Malformed("pickle has an integer of " + n + " bytes at byte " + at + ", too large for a count");
        }
        requireLeft(n);
        long v = 0;
        int last = 0;
        for (int i = 0; i < n; i++) {
            last = u8();
            v |= (long) last << (8 * i);
        }
        if (n > 0 && n < 8 && last >= 0x80) {
            v -= 1L << (8 * n); // two's complement of n bytes
        }
        return v;
    }

    private String utf8(long length, long at) throws Malformed, IOException {
        requireLeft(length);
        if (length > MAX_STRING) {
            throw new Malformed("pickle has a string of " + length + " bytes at byte " + at + ", more than the "
                    + MAX_STRING + " read (torch.save's keys and names are short)");
        }
        byte[] bytes = new byte[(int) length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) u8();
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new Malformed("pickle has a string that is not UTF-8 at byte " + at);
        }
    }

    private Global global(long at) throws Malformed, IOException {
        Global g = new Global(line(at), line(at));
        if (g.equals(REBUILD) || g.equals(ORDERED_DICT)
                || (g.module().equals("torch") && Dtype.ofStorage(g.name()) != null)) {
            return g;
        }
        throw new Malformed("pickle refers to " + g + ", which is not read (only tensors, numbers, strings, lists "
                + "and dicts)");
    }

    private String line(long at) throws Malformed, IOException {
        StringBuilder s = new StringBuilder();
        while (true) {
            int b = u8();
            if (b == '\n') {
                return s.toString();
            }
            if (b < 0x20 || b > 0x7e || s.length() == MAX_LINE) {
                throw new Malformed("pickle has a malformed GLOBAL at byte " + at);
            }
            s.append((char) b);
        }
    }

    private Object reduce(Object callable, Object args, long at) throws Malformed {
        if (!(args instanceof Tuple tuple)) {
            throw new Malformed("pickle has a REDUCE without an argument tuple at byte " + at);
        }
        List<Object> a = tuple.items();
        if (ORDERED_DICT.equals(callable) && a.isEmpty()) {
            return new LinkedHashMap<>();
        }
        if (!REBUILD.equals(callable)) {
            throw new Malformed("pickle calls " + describe(callable) + " at byte " + at + ", which is not read");
        }
        if (a.size() != 6) {
            // A seventh argument is tensor metadata (torch 2.x writes one only where it is not empty).
            throw new Malformed("pickle rebuilds a tensor from " + a.size() + " arguments at byte " + at
                    + ", not the 6 of a plain tensor");
        }
        if (!(a.get(0) instanceof Storage storage) || !(a.get(1) instanceof Long offset)
                || !(a.get(4) instanceof Boolean) || !(a.get(5) instanceof Map<?, ?>)) {
            throw new Malformed("pickle rebuilds a tensor from arguments of the wrong types at byte " + at);
        }
        long[] size = longs(a.get(2), "size", at);
        long[] stride = longs(a.get(3), "stride", at);
        if (size.length != stride.length) {
            throw new Malformed("pickle has a tensor of " + size.length + " sizes but " + stride.length
                    + " strides at byte " + at);
        }
        return new Tensor(storage, offset, size, stride);
    }

    private static long[] longs(Object tuple, String what, long at) throws Malformed {
        if (!(tuple instanceof Tuple t)) {
            throw new Malformed("pickle has a tensor " + what + " that is not a tuple at byte " + at);
        }
        List<Object> items = t.items();
        long[] values = new long[items.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(items.get(i) instanceof Long v)) {
                throw new Malformed("pickle has a tensor " + what + " that is not integers at byte " + at);
            }
            values[i] = v;
        }
        return values;
    }

    /** BINPERSID: torch's {@code ('storage', torch.XStorage, key, location, numel)}. */
    private static Storage storage(Object id, long at) throws Malformed {
        List<Object> t = id instanceof Tuple tuple ? tuple.items() : List.of();
        if (t.size() == 5 && "storage".equals(t.get(0))
                && t.get(1) instanceof Global(String module, String name) && module.equals("torch")
                && Dtype.ofStorage(name) != null && t.get(2) instanceof String key
                && t.get(3) instanceof String location && t.get(4) instanceof Long numel && numel >= 0) {
            return new Storage(Dtype.ofStorage(name), key, location, numel);
        }
        throw new Malformed("pickle has a persistent id that is not a torch storage at byte " + at);
    }

    /** What a message calls {@code o}: a global by its name, None as such, else its Python type with an article. */
    static String describe(Object o) {
        if (o instanceof Global g) {
            return g.toString();
        }
        String kind = kind(o);
        return o == None.NONE ? kind : ("aeiou".indexOf(kind.charAt(0)) >= 0 ? "an " : "a ") + kind;
    }

    /** The Python type of a value read, as messages name it. */
    static String kind(Object o) {
        return switch (o) {
            case Map<?, ?> m -> "dict";
            case List<?> l -> "list";
            case Tuple t -> "tuple";
            case String s -> "string";
            case Long l -> "integer";
            case Double d -> "float";
            case Boolean b -> "bool";
            case Tensor t -> "tensor";
            case Storage s -> "torch storage";
            case Global g -> "global " + g;
            case None n -> "None";
            default -> o.getClass().getSimpleName();
        };
    }

    private Object get(long index, long at) throws Malformed {
        Object o = memo.get(index);
        if (o == null) {
            throw new Malformed("pickle gets memo " + index + " at byte " + at + ", which was never put");
        }
        if (o == DELIVERED) {
            throw new Malformed("pickle gets memo " + index + " at byte " + at + ", a value of a record already "
                    + "read, which is not read again (torch.save gets only globals and strings)");
        }
        return o;
    }

    /**
     * Pushes a value the pickle makes, refusing past {@link #MAX_VALUES} held: their heap is bounded by their number
     * (a byte can make an empty dict), not by the pickle's bytes. A tuple's items were counted as they were made.
     */
    private void push(Object value) throws Malformed {
        push(value, value instanceof String s ? weight(s) : 1);
    }

    /**
     * Pushes a value got from the memo, counted as what it weighs: each get is one more reference held (on the
     * stack, then in a list), and a list appended to itself 2^20 times is 2 MiB of pickle, a few KiB deflated. What
     * is taken off the count as a value is dropped is its weight, so it must have been counted so.
     */
    private void pushGot(Object value) throws Malformed {
        push(value, weight(value));
    }

    private void push(Object value, int weight) throws Malformed {
        values += weight;
        if (values > MAX_VALUES) {
            throw new Malformed("pickle holds more than " + MAX_VALUES + " values at once, more than are read (an "
                    + "SGLang dump's holds a batch of 1,000 forward passes, about 22,000)");
        }
        stack.add(value);
    }

    private Object pop() throws Malformed {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw new Malformed("pickle pops an empty stack at byte " + (position - 1));
        }
        return stack.removeLast();
    }

    private Object peek() throws Malformed {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw new Malformed("pickle reads an empty stack at byte " + (position - 1));
        }
        return stack.getLast();
    }

    private List<Object> popMark() throws Malformed {
        if (marks.isEmpty()) {
            throw new Malformed("pickle has no MARK before byte " + (position - 1));
        }
        int mark = marks.removeLast();
        markValues.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(mark + 1, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    /**
     * A dict key: a string or number, as torch.save's dicts have. A list as key (which Python refuses) could hold
     * itself, and hashing it would never end.
     */
    private static Object key(Object o, long at) throws Malformed {
        if (o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean
                || o == None.NONE) {
            return o;
        }
        throw new Malformed("pickle has a dict key that is " + describe(o) + " at byte " + at);
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object o, long at) throws Malformed {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new Malformed("pickle sets an item of " + describe(o) + " at byte " + at + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, long at) throws Malformed {
        if (o instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new Malformed("pickle appends to " + describe(o) + " at byte " + at + ", not a list");
    }
}
