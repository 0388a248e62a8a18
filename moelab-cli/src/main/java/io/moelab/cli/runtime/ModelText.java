package io.moelab.cli.runtime;

import io.moelab.cli.support.Inputs;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Reading the text files the runtime commands take. */
final class ModelText {
    /**
     * The most bytes one array holds (the JDK's soft maximum). Past it, reading the file threw an OutOfMemoryError
     * that read as a heap too small, which no -Xmx helps.
     */
    static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private ModelText() {
    }

    /**
     * A UTF-8 text file, or standard input for {@code -}, refused with a one-line error when it is missing, too large
     * or not UTF-8.
     */
    static String read(Path file, String option) {
        if (Inputs.isStdin(file)) {
            return readStdin(option);
        }
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new InvalidInputException(option, String.format(Locale.ROOT,
                        "%s is too large (%d bytes; a text can have at most %d)", file, size, MAX_BYTES));
            }
            return decode(Files.readAllBytes(file), file.toString(), option);
        } catch (FileSystemException e) {
            // Its message is the bare path where the file system gave no reason (a missing file).
            throw new InvalidInputException(option, "cannot read " + file + ": " + AtomicFiles.reason(e));
        } catch (IOException e) {
            throw new InvalidInputException(option, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Standard input to its end, as {@link #read} reads a file: one line naming it for each problem. */
    private static String readStdin(String option) {
        byte[] bytes;
        try (InputStream in = Inputs.stdin()) {
            // One byte more than a text may have, to tell a stream that is too long; read in chunks, not allocated.
            bytes = in.readNBytes((int) MAX_BYTES + 1);
        } catch (IOException e) {
            throw new InvalidInputException(option, "cannot read " + Inputs.NAME + ": " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw new InvalidInputException(option, String.format(Locale.ROOT,
                    "%s is too large (more than %d bytes, the most a text can have)", Inputs.NAME, MAX_BYTES));
        }
        return decode(bytes, Inputs.NAME, option);
    }

    private static String decode(byte[] bytes, String source, String option) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(option, source + " is not UTF-8 text");
        }
    }
}
