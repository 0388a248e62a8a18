package io.moelab.runtime.safetensors;

import java.nio.file.Path;

/** Opens the safetensors file named by its argument and prints the exception's message, or "opened". */
public final class OpenAndReportMain {
    private OpenAndReportMain() {
    }

    /** Runs it. */
    public static void main(String[] args) {
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(args[0]))) {
            System.out.println("opened " + f.tensors().size());
        } catch (RuntimeException e) {
            System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
