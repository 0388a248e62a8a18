package io.moelab.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextFilesTest {
    @TempDir
    Path dir;

    @Test
    void readsUtf8AndDropsALeadingByteOrderMark() throws IOException {
        Path f = dir.resolve("config.json");
        Files.write(f, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '"', (byte) 0xC3, (byte) 0xA9, '"',
                ':', '1', '}'});
        assertThat(TextFiles.readUtf8(f)).isEqualTo("{\"é\":1}");
    }

    @Test
    void bytesThatAreNotUtf8AreNamedWithTheFile() throws IOException {
        Path f = dir.resolve("config.json");
        Files.write(f, new byte[] {'{', '"', (byte) 0xFF, '"', ':', '1', '}'});
        assertThatThrownBy(() -> TextFiles.readUtf8(f)).isInstanceOf(ModelFormatException.class)
                .hasMessage(f + ": not UTF-8 text");
    }

    /**
     * A file past the largest byte array is refused naming it and its size: reading it threw an OutOfMemoryError
     * ("Required array size too large"), which the launcher reported as a heap too small. A sparse file.
     */
    @Test
    void aFilePastTheLargestArrayIsRefusedNamingItsSize() throws IOException {
        Path f = dir.resolve("tokenizer_config.json");
        try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(3L << 30);
        }
        assertThatThrownBy(() -> TextFiles.readUtf8(f)).isInstanceOf(ModelFormatException.class)
                .hasMessage(f + ": too large (3221225472 bytes; at most 2147483639)");
    }

    @Test
    void aDirectoryWhereAFileShouldBeIsOneLineNamingIt() throws IOException {
        Path d = Files.createDirectory(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> TextFiles.readUtf8(d)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(d + ": cannot read: ").hasMessageNotContaining("\n");
    }
}
