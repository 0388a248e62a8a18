package io.moelab.evolve.task.eplb;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** Describes a candidate's throwable for the model: class, message and the frames that matter. */
final class Failures {
    /** Library frames kept above the candidate's first frame: where inside the API it failed. */
    private static final int FRAMES_ABOVE = 4;
    /** Frames kept when no frame belongs to the candidate. */
    private static final int FRAMES_WITHOUT_CANDIDATE = 8;
    /** Causes followed. */
    private static final int MAX_CAUSES = 3;

    private Failures() {
    }

    /**
     * {@code Class: message}, the stack frames of the candidate's classes (and the few library frames above the
     * first of them), then up to three causes the same way.
     */
    static String describe(Throwable t, Set<String> candidateClasses) {
        StringBuilder sb = new StringBuilder();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int depth = 0; t != null && depth <= MAX_CAUSES && seen.add(t); depth++, t = t.getCause()) {
            if (depth > 0) {
                sb.append("Caused by: ");
            }
            sb.append(t).append('\n');
            for (StackTraceElement frame : frames(t.getStackTrace(), candidateClasses)) {
                sb.append("    at ").append(format(frame)).append('\n');
            }
        }
        return sb.toString();
    }

    private static List<StackTraceElement> frames(StackTraceElement[] stack, Set<String> candidateClasses) {
        int first = -1;
        for (int i = 0; i < stack.length && first < 0; i++) {
            if (isCandidate(stack[i], candidateClasses)) {
                first = i;
            }
        }
        List<StackTraceElement> out = new ArrayList<>();
        if (first < 0) {
            for (int i = 0; i < Math.min(stack.length, FRAMES_WITHOUT_CANDIDATE); i++) {
                out.add(stack[i]);
            }
            return out;
        }
        for (int i = Math.max(0, first - FRAMES_ABOVE); i < first; i++) {
            out.add(stack[i]);
        }
        for (int i = first; i < stack.length; i++) {
            if (isCandidate(stack[i], candidateClasses)) {
                out.add(stack[i]);
            }
        }
        return out;
    }

    /** {@code Class.method(File.java:line)}, without the module and class loader prefixes. */
    private static String format(StackTraceElement frame) {
        String where = frame.isNativeMethod() ? "Native Method"
                : frame.getFileName() == null ? "Unknown Source"
                : frame.getLineNumber() >= 0 ? frame.getFileName() + ":" + frame.getLineNumber() : frame.getFileName();
        return frame.getClassName() + "." + frame.getMethodName() + "(" + where + ")";
    }

    private static boolean isCandidate(StackTraceElement frame, Set<String> candidateClasses) {
        String name = frame.getClassName();
        int nested = name.indexOf('$');
        return candidateClasses.contains(name) || (nested > 0 && candidateClasses.contains(name.substring(0, nested)));
    }
}
