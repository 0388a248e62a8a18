package io.moelab.runtime;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a model directory's JSON files ({@code config.json}, the shard index, tokenizer files) as text. */
public final class TextFiles {
    /** The most bytes one array holds (the JDK's soft maximum); past it reading threw an OutOfMemoryError. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private TextFiles() {
    }

    /**
     * The file's text, decoded as UTF-8, without a leading byte order mark (a hand edit on Windows leaves one; JSON
     * lets a parser ignore it, Jackson reading a string does not).
     *
     * @throws ModelFormatException naming the file: {@code not UTF-8 text}, {@code too large (N bytes; at most
     *                              2147483639)}, or {@code cannot read: REASON} (the
     *                              decoder's and the file system's own messages named neither, e.g. "Input length
     *                              = 1")
     */
    public static String readUtf8(Path file) {
        return readUtf8(file, MAX_BYTES);
    }

    /**
     * As {@link #readUtf8(Path)}, refusing a file of more than {@code maxBytes} (at most the JDK's array limit) by
     * its size, before reading it.
     *
     * @throws ModelFormatException as {@link #readUtf8(Path)}, {@code too large} naming {@code maxBytes}
     */
    public static String readUtf8(Path file, long maxBytes) {
        long limit = Math.min(maxBytes, MAX_BYTES);
        try {
            long size = Files.size(file);
            if (size > limit) {
                throw new ModelFormatException(file.toString(), null, "too large (" + size + " bytes; at most "
                        + limit + ")");
            }
            String text = Files.readString(file);
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file.toString(), null, "not UTF-8 text");
        } catch (FileSystemException e) {
            throw new ModelFormatException(file.toString(), null, "cannot read: " + (e.getReason() != null
                    ? e.getReason() : e.getClass().getSimpleName()));
        } catch (IOException e) {
            String m = e.getMessage();
            throw new ModelFormatException(file.toString(), null, "cannot read: " + (m == null
                    ? e.getClass().getSimpleName() : m.replaceAll("\\s+", " ").strip()));
        }
    }
}
