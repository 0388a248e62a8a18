package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A property over the two JSON inputs of {@code eplb rebalance}: any mutation of a valid file (bytes flipped,
 * inserted, deleted or repeated; the file cut short) is either still a valid file or refused with an
 * {@link InvalidInputException}, the one error the CLI turns into {@code error: FILE: ...}, exit 2. Anything else
 * (a runtime exception from deep inside, an {@link Error}) reaches the user as a crash. jqwik is not among the
 * build's dependencies, so the cases come from a fixed seed: a failure reproduces, and prints the file it read.
 */
class MutatedInputFilesTest {
    private static final int CASES = 4000;
    /** Bytes that change JSON's structure or a number's meaning, more often than random bytes would. */
    private static final byte[] SIGNIFICANT = "[]{},:\"-+.0123456789eENaIfntu\\ \n\0"
            .getBytes(StandardCharsets.ISO_8859_1);

    @TempDir
    Path dir;

    @Test
    void mutatedRebalanceInputsAreReadOrRefusedAsBadInput() throws IOException {
        byte[] valid = """
                {"weight": [[10, 20.5, 0, 4e2], [5, 5, 5, 5]], "num_replicas": 8, "num_groups": 2,
                 "num_nodes": 1, "num_gpus": 4, "history": [[[1, 2, 3, 4], [0, 0, 0, 1]]], "note": {"k": [true, null]}}
                """.getBytes(StandardCharsets.UTF_8);
        RebalanceInput.read(Files.write(dir.resolve("valid.json"), valid)); // the seed file itself is good
        fuzz(valid, 1, path -> {
            RebalanceInput in = RebalanceInput.read(path);
            in.topology(null, null, null, null);
            in.topology(8, 2, 1, 4);
        });
    }

    @Test
    void mutatedPlacementFilesAreReadOrRefusedAsBadInput() throws IOException {
        Topology topology = new Topology(6, 1, 1, 2);
        Placement placement = Placement.of(topology, 4, new int[][] {{0, 1, 2, 3, 0, 0}, {3, 3, 2, 1, 0, 1}});
        Path written = dir.resolve("placement.json");
        PlacementFile.write(written, "hand", placement);
        assertThat(PlacementFile.read(written, 4, null)).isEqualTo(placement);
        fuzz(Files.readAllBytes(written), 2, path -> {
            PlacementFile.read(path, 4, null);
            PlacementFile.read(path, 4, topology);
        });
    }

    private void fuzz(byte[] valid, long seed, Consumer<Path> read) throws IOException {
        Random random = new Random(seed);
        Path path = dir.resolve("mutated.json");
        for (int i = 0; i < CASES; i++) {
            byte[] bytes = valid;
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                bytes = mutate(bytes, random);
            }
            Files.write(path, bytes);
            try {
                read.accept(path);
            } catch (InvalidInputException expected) {
                assertThat(expected.getMessage()).as("case %d", i).isNotBlank().doesNotContain("\n");
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                fail("case " + i + " threw " + e + " reading " + new String(bytes, StandardCharsets.UTF_8)
                        + " (hex " + HexFormat.of().formatHex(bytes) + ")", e);
            }
        }
    }

    private static byte[] mutate(byte[] bytes, Random random) {
        if (bytes.length == 0) {
            return new byte[] {pick(random)};
        }
        int at = random.nextInt(bytes.length);
        switch (random.nextInt(6)) {
            case 0 -> { // flip bits of one byte
                byte[] out = bytes.clone();
                out[at] ^= (byte) (1 + random.nextInt(255));
                return out;
            }
            case 1 -> { // replace a byte with a significant one
                byte[] out = bytes.clone();
                out[at] = pick(random);
                return out;
            }
            case 2 -> { // insert a significant byte
                byte[] out = new byte[bytes.length + 1];
                System.arraycopy(bytes, 0, out, 0, at);
                out[at] = pick(random);
                System.arraycopy(bytes, at, out, at + 1, bytes.length - at);
                return out;
            }
            case 3 -> { // delete a span
                int end = Math.min(bytes.length, at + 1 + random.nextInt(8));
                byte[] out = new byte[bytes.length - (end - at)];
                System.arraycopy(bytes, 0, out, 0, at);
                System.arraycopy(bytes, end, out, at, bytes.length - end);
                return out;
            }
            case 4 -> { // repeat a span
                int end = Math.min(bytes.length, at + 1 + random.nextInt(16));
                byte[] out = new byte[bytes.length + (end - at)];
                System.arraycopy(bytes, 0, out, 0, end);
                System.arraycopy(bytes, at, out, end, bytes.length - at);
                return out;
            }
            default -> { // cut short
                return Arrays.copyOf(bytes, at);
            }
        }
    }

    private static byte pick(Random random) {
        return SIGNIFICANT[random.nextInt(SIGNIFICANT.length)];
    }
}
