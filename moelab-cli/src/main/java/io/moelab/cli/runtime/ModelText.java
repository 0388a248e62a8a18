package io.moelab.cli.runtime;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.io.AtomicFiles;
import java.io.IOException;
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

    /** A UTF-8 text file, refused with a one-line error when it is missing, too large or not UTF-8. */
    static String read(Path file, String option) {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new InvalidInputException(option, String.format(Locale.ROOT,
                        "%s is too large (%d bytes; a text can have at most %d)", file, size, MAX_BYTES));
            }
            byte[] bytes = Files.readAllBytes(file);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(option, file + " is not UTF-8 text");
        } catch (FileSystemException e) {
            // Its message is the bare path where the file system gave no reason (a missing file).
            throw new InvalidInputException(option, "cannot read " + file + ": " + AtomicFiles.reason(e));
        } catch (IOException e) {
            throw new InvalidInputException(option, "cannot read " + file + ": " + e.getMessage());
        }
    }
}
