package io.moelab.eplb.trace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader of the pickle that {@code torch.save} writes as {@code data.pkl}: protocol 2, holding dicts, lists,
 * tuples, numbers, strings, None and tensors. It runs no code: the only globals it knows are the few torch refers to
 * ({@code torch._utils._rebuild_tensor_v2}, {@code torch.*Storage}, {@code collections.OrderedDict}), and a tensor is
 * read as a description of where its elements lie ({@link Tensor}), not as its data. Any other opcode or global is
 * refused, as is a pickle that does not end at its {@code STOP}.
 */
final class TorchPickle {
    /** Python's None. */
    enum None { NONE }

    /** A Python tuple. */
    record Tuple(List<Object> items) {
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

    private static final Object MARK = new Object();
    private static final Global REBUILD = new Global("torch._utils", "_rebuild_tensor_v2");
    private static final Global ORDERED_DICT = new Global("collections", "OrderedDict");
    /**
     * Most values made (marks included): an SGLang per_pass dump makes 22 a forward pass, so about 11,900 passes are
     * read (11,500 were, in -Xmx64m). Each takes tens of bytes of heap; 2^18 empty dicts, the worst, under 32 MiB.
     */
    static final int MAX_VALUES = 1 << 18;
    /** Longest module or name in a GLOBAL opcode: torch's are short. */
    private static final int MAX_LINE = 200;

    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    /** How many values were pushed, memo gets aside. */
    private int values;

    private TorchPickle(byte[] pickle) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The object {@code pickle} holds.
     *
     * @throws Malformed naming the first opcode, global or value that is not read, or the end reached early
     */
    static Object load(byte[] pickle) throws Malformed {
        return new TorchPickle(pickle).run();
    }

    private Object run() throws Malformed {
        if (u8() != 0x80) {
            throw new Malformed("does not start as a pickle (no PROTO opcode)");
        }
        int protocol = u8();
        if (protocol != 2) {
            throw new Malformed("is pickle protocol " + protocol + ", not 2 as torch.save writes");
        }
        while (true) {
            int at = in.position();
            int op = u8();
            switch (op) {
                case '.' -> {
                    Object result = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) {
                        throw new Malformed("pickle stops with values left on its stack");
                    }
                    if (in.hasRemaining()) {
                        throw new Malformed("has " + in.remaining() + " bytes after the pickle's STOP");
                    }
                    return result;
                }
                case '(' -> {
                    marks.add(stack.size());
                    push(MARK);
                }
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
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
                    list(peek(), at).add(value);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    list(peek(), at).addAll(items);
                }
                case 'q' -> memo.put((long) u8(), peek());
                case 'r' -> memo.put(u32(), peek());
                case 'h' -> stack.add(get(u8(), at));
                case 'j' -> stack.add(get(u32(), at));
                case 'J' -> push((long) in.getInt(position(4)));
                case 'K' -> push((long) u8());
                case 'M' -> push((long) Short.toUnsignedInt(in.getShort(position(2))));
                case 0x8a -> push(long1(at));
                // BINFLOAT is big-endian, the rest of the pickle little-endian.
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong(position(8)))));
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
    }

    private int u8() throws Malformed {
        return Byte.toUnsignedInt(in.get(position(1)));
    }

    private long u32() throws Malformed {
        return Integer.toUnsignedLong(in.getInt(position(4)));
    }

    /** Moves past {@code n} bytes, returning where they start; refuses them past the end. */
    private int position(int n) throws Malformed {
        int at = in.position();
        if (in.remaining() < n) {
            throw new Malformed("pickle ends early, at byte " + in.limit() + " (truncated?)");
        }
        in.position(at + n);
        return at;
    }

    private long long1(int at) throws Malformed {
        int n = u8();
        if (n > 8) {
            throw new Malformed("pickle has an integer of " + n + " bytes at byte " + at + ", too large for a count");
        }
        int start = position(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | Byte.toUnsignedInt(in.get(start + i));
        }
        if (n > 0 && n < 8 && in.get(start + n - 1) < 0) {
            v -= 1L << (8 * n); // two's complement of n bytes
        }
        return v;
    }

    private String utf8(long length, int at) throws Malformed {
        if (length > in.remaining()) {
            throw new Malformed("pickle ends early, at byte " + in.limit() + " (truncated?)");
        }
        int start = position((int) length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in.duplicate().position(start).limit(start + (int) length)).toString();
        } catch (CharacterCodingException e) {
            throw new Malformed("pickle has a string that is not UTF-8 at byte " + at);
        }
    }

    private Global global(int at) throws Malformed {
        Global g = new Global(line(at), line(at));
        if (g.equals(REBUILD) || g.equals(ORDERED_DICT)
                || (g.module().equals("torch") && Dtype.ofStorage(g.name()) != null)) {
            return g;
        }
        throw new Malformed("pickle refers to " + g + ", which is not read (only tensors, numbers, strings, lists "
                + "and dicts)");
    }

    private String line(int at) throws Malformed {
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

    private Object reduce(Object callable, Object args, int at) throws Malformed {
        if (!(args instanceof Tuple(List<Object> a))) {
            throw new Malformed("pickle has a REDUCE without an argument tuple at byte " + at);
        }
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

    private static long[] longs(Object tuple, String what, int at) throws Malformed {
        if (!(tuple instanceof Tuple(List<Object> items))) {
            throw new Malformed("pickle has a tensor " + what + " that is not a tuple at byte " + at);
        }
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
    private static Storage storage(Object id, int at) throws Malformed {
        if (id instanceof Tuple(List<Object> t) && t.size() == 5 && "storage".equals(t.get(0))
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

    private Object get(long index, int at) throws Malformed {
        Object o = memo.get(index);
        if (o == null) {
            throw new Malformed("pickle gets memo " + index + " at byte " + at + ", which was never put");
        }
        return o;
    }

    /**
     * Pushes a value the pickle makes, refusing past {@link #MAX_VALUES}: its heap is bounded by their number (a
     * byte can make an empty dict), not by the pickle's bytes. A value got from the memo is no new one.
     */
    private void push(Object value) throws Malformed {
        if (++values > MAX_VALUES) {
            throw new Malformed("pickle makes more than " + MAX_VALUES + " values, more than are read (an SGLang "
                    + "per_pass dump of about 11,900 forward passes; a per_token dump's token ids make far more)");
        }
        stack.add(value);
    }

    private Object pop() throws Malformed {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw new Malformed("pickle pops an empty stack at byte " + (in.position() - 1));
        }
        return stack.removeLast();
    }

    private Object peek() throws Malformed {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw new Malformed("pickle reads an empty stack at byte " + (in.position() - 1));
        }
        return stack.getLast();
    }

    private List<Object> popMark() throws Malformed {
        if (marks.isEmpty()) {
            throw new Malformed("pickle has no MARK before byte " + (in.position() - 1));
        }
        int mark = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(mark + 1, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    /**
     * A dict key: a string or number, as torch.save's dicts have. A list as key (which Python refuses) could hold
     * itself, and hashing it would never end.
     */
    private static Object key(Object o, int at) throws Malformed {
        if (o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean
                || o == None.NONE) {
            return o;
        }
        throw new Malformed("pickle has a dict key that is " + describe(o) + " at byte " + at);
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object o, int at) throws Malformed {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new Malformed("pickle sets an item of " + describe(o) + " at byte " + at + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, int at) throws Malformed {
        if (o instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new Malformed("pickle appends to " + describe(o) + " at byte " + at + ", not a list");
    }
}
