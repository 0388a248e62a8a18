package io.moelab.eplb.trace;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.io.JsonReader;
import io.moelab.eplb.io.NumericArray;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON trace reader as it was before SGLang dumps were read pass by pass (commit 8fe715e, less the vLLM writer):
 * the reference that the streaming reader's steps and errors are compared with.
 */
final class JsonTracesBefore {
    private JsonTracesBefore() {
    }

    /**
     * Reads a JSON trace, delivering its steps: a vLLM history's as each is parsed, an SGLang dump's once the whole
     * array is read (its all-zero layers are known only then).
     *
     * @return the number of steps
     */
    static int read(JsonReader reader, StepSink sink) {
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
            steps = name.equals("load_history") ? readVllmHistory(reader, sink) : readSglangCounts(reader, name, sink);
        }
        reader.endObject();
        reader.endDocument();
        if (found == null) {
            throw new InvalidInputException(reader.source(), "no expert loads found: expected a \"load_history\" "
                    + "(vLLM) or \"logical_count\" (SGLang recorder dump) member");
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
                    step = NumericArray.read(reader, field).toLoadMatrix(field);
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

    /** One aggregate matrix, or one per recorded pass; all-zero (dense) layers are dropped. */
    private static int readSglangCounts(JsonReader reader, String key, StepSink sink) {
        NumericArray array = NumericArray.read(reader, key);
        List<LoadMatrix> steps = new ArrayList<>();
        switch (array.depth()) {
            case 2 -> steps.add(array.toLoadMatrix(key));
            case 3 -> {
                for (int s = 0; s < array.shape()[0]; s++) {
                    steps.add(LoadMatrix.ofFlat(array.shape()[1], array.shape()[2], array.block(s),
                            key + "[" + s + "]"));
                }
            }
            default -> throw new InvalidInputException(key, "expected [layers][experts] or [steps][layers][experts] "
                    + "but found a " + array.depth() + "-dimensional array");
        }
        ExpertLoadTrace trace = dropIdleLayers(ExpertLoadTrace.of(steps), key);
        trace.stepList().forEach(sink::accept);
        return trace.steps();
    }

    private static ExpertLoadTrace dropIdleLayers(ExpertLoadTrace trace, String key) {
        LoadMatrix total = trace.sum(0, trace.steps());
        List<Integer> kept = new ArrayList<>();
        for (int l = 0; l < trace.layers(); l++) {
            if (total.layerTotal(l) > 0) {
                kept.add(l);
            }
        }
        if (kept.isEmpty()) {
            throw new InvalidInputException(key, "every layer has zero load");
        }
        if (kept.size() == trace.layers()) {
            return trace;
        }
        int experts = trace.experts();
        List<LoadMatrix> steps = new ArrayList<>();
        double[] row = new double[experts];
        for (LoadMatrix step : trace.stepList()) {
            double[] values = new double[kept.size() * experts];
            for (int i = 0; i < kept.size(); i++) {
                step.copyLayer(kept.get(i), row);
                System.arraycopy(row, 0, values, i * experts, experts);
            }
            steps.add(LoadMatrix.ofFlat(kept.size(), experts, values, key));
        }
        return ExpertLoadTrace.of(steps);
    }
}
