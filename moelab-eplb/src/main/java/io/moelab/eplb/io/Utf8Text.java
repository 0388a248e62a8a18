package io.moelab.eplb.io;

import io.moelab.eplb.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;

/** The check that a text input (JSON: rebalance inputs, placements, traces, model and cluster files) is UTF-8. */
public final class Utf8Text {
    private Utf8Text() {
    }

    /**
     * Refuses text in UTF-16 or UTF-32 (as Windows PowerShell's {@code >} writes it), which read as an unexpected
     * character at line 1 and said nothing of the encoding. Its first two bytes tell: a UTF-16 byte order mark, or a
     * NUL, which UTF-8 JSON cannot begin with. A UTF-8 byte order mark passes. Leaves the stream where it was.
     *
     * @param in     the input, at its start; it must support {@link InputStream#mark mark}
     * @param source the input's name for the message (a file, {@code standard input})
     * @throws InvalidInputException {@code SOURCE: is not UTF-8 text: it starts with bytes FF FE, as UTF-16 and
     *                               UTF-32 text do (save it as UTF-8)}
     * @throws IOException if the stream cannot be read
     */
    public static void require(InputStream in, String source) throws IOException {
        if (!in.markSupported()) {
            throw new IllegalArgumentException("the stream must support mark");
        }
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
}
