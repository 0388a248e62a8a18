package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;

/** Opening JSON input files with errors that name the file. */
final class JsonFiles {
    private JsonFiles() {
    }

    /** Parses a JSON file with {@code parser}, turning I/O failures into {@link InvalidInputException}s. */
    static <T> T parse(Path path, Function<JsonReader, T> parser) {
        String source = path.toString();
        if (!Files.exists(path)) {
            throw new InvalidInputException(source, "no such file");
        }
        if (Files.isDirectory(path)) {
            throw new InvalidInputException(source, "is a directory, expected a JSON file");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path));
             JsonReader reader = new JsonReader(new InputStreamReader(in, StandardCharsets.UTF_8), source)) {
            refuseUtf16(in, source);
            if (reader.peek() != JsonReader.Token.BEGIN_OBJECT) {
                throw new InvalidInputException(source, "expected a JSON object but found " + reader.peek().phrase());
            }
            T result = parser.apply(reader);
            reader.endDocument();
            return result;
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            // JsonReader's wrapper says only "reading FILE": the cause says what failed (Input/output error).
            throw new InvalidInputException(source, "cannot read: " + e.getCause().getMessage(), e);
        }
    }

    /**
     * Refuses text in UTF-16 or UTF-32 (as Windows PowerShell's {@code >} writes it), which read as an unexpected
     * character at line 1 and said nothing of the encoding. Its first two bytes tell: a UTF-16 byte order mark, or a
     * NUL, which UTF-8 JSON cannot begin with. Leaves the stream where it was.
     */
    private static void refuseUtf16(InputStream in, String source) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        boolean bom = (b0 == 0xFF && b1 == 0xFE) || (b0 == 0xFE && b1 == 0xFF);
        if (bom || b0 == 0 || b1 == 0) {
            throw new InvalidInputException(source, "is not UTF-8 text: it starts with bytes " + String.format(
                    Locale.ROOT, b1 < 0 ? "%02X" : "%02X %02X", b0, b1) + ", as UTF-16 and UTF-32 text do (save it as "
                    + "UTF-8)");
        }
    }

    /** Reads a non-negative integer member value. */
    static int readInt(JsonReader reader, String field) {
        if (reader.peek() != JsonReader.Token.NUMBER) {
            throw new InvalidInputException(field, "expected an integer but found " + reader.peek().phrase());
        }
        double v = reader.nextDouble();
        if (v != Math.rint(v)) {
            throw new InvalidInputException(field, "expected an integer but found " + Numbers.plain(v));
        }
        if (Math.abs(v) > Integer.MAX_VALUE) {
            throw new InvalidInputException(field, "expected an integer of at most " + Integer.MAX_VALUE
                    + " in magnitude but found " + Numbers.plain(v));
        }
        return (int) v;
    }
}
