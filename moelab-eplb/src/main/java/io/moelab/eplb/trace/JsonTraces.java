package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.io.JsonReader;
import io.moelab.eplb.io.JsonWriter;
import io.moelab.eplb.io.NumericArray;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads the JSON trace formats (vLLM and SGLang dumps, told apart by their keys) and writes vLLM's. */
final class JsonTraces {
    /**
     * Loads of an SGLang dump's passes held before it is read a second time instead, where it can be: 16 MiB, about
     * 130 passes of DeepSeek-V3's 61 x 256.
     */
    static final long HELD_LOADS = 2L << 20;

    private JsonTraces() {
    }

    /** Opens the trace's JSON again from its start, for a second reading of an SGLang dump (see {@link #read}). */
    @FunctionalInterface
    interface Reopen {
        /** A reader of the same JSON text from its first character. */
        JsonReader open() throws IOException;
    }

    /**
     * Reads a JSON trace, delivering its steps: a vLLM history's as each is parsed. An SGLang dump's passes lose its
     * all-zero layers, known at once where every layer has had a load by then, else only at the end of the array; the
     * passes before are held, up to {@code heldLoads} loads where {@code again} can read the dump a second time: past
     * that it scans the rest of the array holding no pass, then delivers every pass on a second reading.
     *
     * @param again     the same JSON from its start, or null where it cannot be read twice (a pipe: then every pass
     *                  is held until the dump's all-zero layers are known)
     * @param heldLoads {@link #HELD_LOADS} but in tests
     * @return the number of steps
     */
    static int read(JsonReader reader, StepSink sink, Reopen again, long heldLoads) throws IOException {
        return read(reader, sink, again, heldLoads, null);
    }

    /** {@code known}: null on a first reading, else what the first reading found in the SGLang dump. */
    private static int read(JsonReader reader, StepSink sink, Reopen again, long heldLoads, Sglang known)
            throws IOException {
        if (reader.peek() != JsonReader.Token.BEGIN_OBJECT) {
            throw new InvalidInputException(reader.source(), "expected a JSON object with \"load_history\" (vLLM) or "
                    + "\"logical_count\" (SGLang) but found " + reader.peek().phrase());
        }
        reader.beginObject();
        int steps = 0;
        String found = null;
        while (reader.hasNext()) {
            String name = reader.nextName();
            boolean loads = switch (name) {
                case "load_history", "logical_count", "counts" -> true;
                default -> false;
            };
            if (!loads) {
                reader.skipValue();
                continue;
            }
            // Two members holding loads: the later one used to replace the earlier without a word.
            if (found != null) {
                throw new InvalidInputException(reader.source(), "has both \"" + found + "\" and \"" + name
                        + "\": which of them holds the expert loads is ambiguous (keep one)");
            }
            found = name;
            if (name.equals("load_history")) {
                steps = readVllmHistory(reader, sink);
                continue;
            }
            Sglang dump = new Sglang(name, sink, again != null ? heldLoads : Long.MAX_VALUE, known);
            dump.read(reader);
            if (dump.scanned) {
                // The second reading delivers the passes, and reads (and checks) the rest of the document.
                try (JsonReader second = again.open()) {
                    return read(second, sink, null, heldLoads, dump);
                }
            }
            steps = dump.steps;
        }
        reader.endObject();
        reader.endDocument();
        if (found == null) {
            throw new InvalidInputException(reader.source(), "no expert loads found: expected a \"load_history\" "
                    + "(vLLM) or \"logical_count\" (SGLang recorder dump) member");
        }
        if (known != null && !found.equals(known.key)) {
            throw Sglang.changed(known.key);
        }
        return steps;
    }

    private static int readVllmHistory(JsonReader reader, StepSink sink) {
        if (reader.peek() != JsonReader.Token.BEGIN_ARRAY) {
            throw new InvalidInputException("load_history", "expected an array of steps but found "
                    + reader.peek().phrase());
        }
        reader.beginArray();
        int steps = 0;
        LoadMatrix first = null;
        // A step of another shape is reported once the history is read, as when the whole trace was checked at
        // once: an error later in the file (a malformed step) still comes first. Steps after it are not delivered.
        InvalidInputException mismatch = null;
        while (reader.hasNext()) {
            String path = "load_history[" + steps + "]";
            if (reader.peek() != JsonReader.Token.BEGIN_OBJECT) {
                throw new InvalidInputException(path, "expected an object but found " + reader.peek().phrase());
            }
            reader.beginObject();
            LoadMatrix step = null;
            while (reader.hasNext()) {
                if (reader.nextName().equals("logical_expert_load")) {
                    String field = path + ".logical_expert_load";
                    step = NumericArray.read(reader, field, TraceLimits.JSON).toLoadMatrix(field);
                } else {
                    reader.skipValue();
                }
            }
            reader.endObject();
            if (step == null) {
                throw new InvalidInputException(path, "has no \"logical_expert_load\"");
            }
            if (first == null) {
                first = step;
            } else if (mismatch == null) {
                try {
                    step.requireShape(first.layers(), first.experts(), "step " + steps);
                } catch (InvalidInputException e) {
                    mismatch = e;
                }
            }
            if (mismatch == null) {
                sink.accept(step);
            }
            steps++;
        }
        reader.endArray();
        if (steps == 0) {
            throw new InvalidInputException("load_history", "has no steps");
        }
        if (mismatch != null) {
            throw mismatch;
        }
        return steps;
    }

    /**
     * An SGLang dump's loads, one aggregate matrix or one per recorded pass, read element by element: an aggregate
     * matrix's rows are gathered into its one step; passes are checked as they come, then delivered, held or only
     * scanned (see {@link JsonTraces#read}). All-zero (dense) layers are dropped. The errors are those of parsing the
     * whole array first: a malformed array, then its depth, then the first bad load, then zero load throughout.
     */
    private static final class Sglang implements NumericArray.ElementSink {
        private final String key;
        private final StepSink sink;
        private final long heldLoads;
        /** The first reading's findings, on a second reading; else null. */
        private final Sglang known;

        /** Per layer, whether it has had a load so far; null until the first step. */
        private boolean[] loaded;
        private int unloaded;
        private int experts;
        /** Passes held until the all-zero layers are known; null once delivered, scanned or after a bad load. */
        private List<LoadMatrix> held = new ArrayList<>();
        private long heldCount;
        /** Every layer has had a load: no layer is dropped, and passes are delivered as they come. */
        private boolean streaming;
        /** Passes after the first {@link #heldLoads} loads are only checked: a second reading delivers them. */
        private boolean scanned;
        /** The first bad load, reported once the array is parsed. */
        private InvalidInputException invalid;
        /**
         * An aggregate matrix's loads so far, row-major (one array, not one per row: a matrix of 2^24 one-load rows
         * held 2^24 arrays); {@link #rowLoads} of them are filled.
         */
        private double[] rows = new double[0];
        private int rowLoads;
        private int steps;

        Sglang(String key, StepSink sink, long heldLoads, Sglang known) {
            this.key = key;
            this.sink = sink;
            this.heldLoads = heldLoads;
            this.known = known;
        }

        void read(JsonReader reader) {
            int[] shape = NumericArray.readElements(reader, key, this, TraceLimits.JSON);
            if (shape.length != 2 && shape.length != 3) {
                throw new InvalidInputException(key, "expected [layers][experts] or [steps][layers][experts] "
                        + "but found a " + shape.length + "-dimensional array");
            }
            if (shape.length == 2) {
                if (known != null) {
                    throw changed(key); // passes on the first reading
                }
                double[] values = Arrays.copyOf(rows, rowLoads);
                rows = null;
                LoadMatrix step = LoadMatrix.ofFlat(shape[0], shape[1], values, key);
                note(step);
                requireLoad();
                sink.accept(dropIdle(step, loaded));
                steps = 1;
                return;
            }
            if (invalid != null) {
                throw invalid;
            }
            steps = shape[0];
            if (known != null) {
                if (steps != known.steps || !Arrays.equals(loaded, known.loaded)) {
                    throw changed(key);
                }
                return;
            }
            requireLoad();
            if (held != null) {
                for (int s = 0; s < held.size(); s++) {
                    sink.accept(dropIdle(held.set(s, null), loaded)); // each pass let go as it is delivered
                }
                held = null;
            }
        }

        @Override
        public void accept(int index, int[] shape, double[] values) {
            if (shape.length == 1) {
                if (rowLoads + values.length > rows.length) {
                    rows = Arrays.copyOf(rows, Math.max(rowLoads + values.length, 2 * rows.length));
                }
                System.arraycopy(values, 0, rows, rowLoads, values.length);
                rowLoads += values.length;
                return;
            }
            if (shape.length != 2 || invalid != null) {
                return; // of a depth reported at the end, or after a bad load: only parsed
            }
            LoadMatrix step;
            try {
                step = LoadMatrix.ofFlat(shape[0], shape[1], values, key + "[" + index + "]");
            } catch (InvalidInputException e) {
                invalid = e;
                held = null;
                return;
            }
            note(step);
            if (known != null) {
                // A second reading: the dump's all-zero layers are known. A layer loaded now but not then, or
                // another shape, is another file.
                if (experts != known.experts || !within(loaded, known.loaded)) {
                    throw changed(key);
                }
                sink.accept(dropIdle(step, known.loaded));
            } else if (streaming) {
                sink.accept(step);
            } else if (!scanned) {
                held.add(step);
                heldCount += values.length;
                if (unloaded == 0) {
                    held.forEach(sink::accept);
                    held = null;
                    streaming = true;
                } else if (heldCount > heldLoads) {
                    held = null;
                    scanned = true;
                }
            }
        }

        /** Marks the layers of {@code step} that have a load. */
        private void note(LoadMatrix step) {
            if (loaded == null) {
                loaded = new boolean[step.layers()];
                unloaded = step.layers();
                experts = step.experts();
            }
            for (int l = 0; l < step.layers(); l++) {
                // Loads are checked non-negative: a layer total above zero is a load somewhere in it.
                if (!loaded[l] && step.layerTotal(l) > 0) {
                    loaded[l] = true;
                    unloaded--;
                }
            }
        }

        private void requireLoad() {
            if (unloaded == loaded.length) {
                throw new InvalidInputException(key, "every layer has zero load");
            }
        }

        private LoadMatrix dropIdle(LoadMatrix step, boolean[] kept) {
            int count = 0;
            for (boolean k : kept) {
                count += k ? 1 : 0;
            }
            if (count == step.layers()) {
                return step;
            }
            int experts = step.experts();
            double[] values = new double[count * experts];
            double[] row = new double[experts];
            for (int l = 0, i = 0; l < step.layers(); l++) {
                if (kept[l]) {
                    step.copyLayer(l, row);
                    System.arraycopy(row, 0, values, i++ * experts, experts);
                }
            }
            return LoadMatrix.ofFlat(count, experts, values, key);
        }

        /** Whether every layer marked in {@code a} is marked in {@code b}, and both have as many. */
        private static boolean within(boolean[] a, boolean[] b) {
            if (a.length != b.length) {
                return false;
            }
            for (int i = 0; i < a.length; i++) {
                if (a[i] && !b[i]) {
                    return false;
                }
            }
            return true;
        }

        static InvalidInputException changed(String key) {
            return new InvalidInputException(key, "changed while it was read (a long SGLang dump is read twice: to "
                    + "find its all-zero layers, then to deliver its steps)");
        }
    }

    /** A writer of vLLM's expert-load history, its opening written at once; {@code finish} flushes {@code out}. */
    static StepWriter vllmWriter(Writer out) {
        JsonWriter json = new JsonWriter(out);
        json.beginObject().name("load_history").beginArray();
        return new StepWriter() {
            private double[] row;

            @Override
            public void accept(LoadMatrix step) {
                if (row == null || row.length != step.experts()) {
                    row = new double[step.experts()];
                }
                json.beginObject().name("logical_expert_load").beginArray();
                for (int l = 0; l < step.layers(); l++) {
                    step.copyLayer(l, row);
                    json.numbers(row);
                }
                json.endArray().endObject();
            }

            @Override
            public void finish() throws IOException {
                json.endArray().endObject().finish();
                out.flush();
            }
        };
    }
}
