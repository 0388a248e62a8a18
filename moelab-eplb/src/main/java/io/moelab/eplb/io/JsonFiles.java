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
            Utf8Text.require(in, source);
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
