package io.moelab.evolve.config;

import io.moelab.eplb.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The text of the UTF-8 files a run reads (its configuration, a task's {@code task.yaml} and initial program). The
 * decoder's own message for other bytes, "Input length = 1", named neither the encoding nor where (a file saved as
 * UTF-16 by Windows PowerShell's {@code >}, or as Latin-1).
 */
public final class Utf8Files {
    private Utf8Files() {
    }

    /**
     * Reads {@code file} as UTF-8.
     *
     * @throws InvalidInputException naming the file: {@code cannot read: ...} when it cannot be read, or
     *                               {@code cannot read: not UTF-8 text (at byte offset N)}
     */
    public static String read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InvalidInputException(file.toString(), "cannot read: " + e.getMessage());
        }
        return decode(file, bytes);
    }

    /**
     * Decodes {@code bytes}, read from {@code file}, as UTF-8.
     *
     * @throws InvalidInputException naming the file: {@code cannot read: not UTF-8 text (at byte offset N)}
     */
    public static String decode(Path file, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return strict(in);
        } catch (CharacterCodingException e) {
            // The decoder stops at the first byte that is not UTF-8.
            throw new InvalidInputException(file.toString(), "cannot read: not UTF-8 text (at byte offset "
                    + in.position() + ")");
        }
    }

    /**
     * Decodes {@code in} as UTF-8, refusing malformed bytes rather than replacing them; on failure {@code in}'s
     * position is at the first byte that is not UTF-8. For callers that report the failure in their own terms.
     */
    public static String strict(ByteBuffer in) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
    }
}
