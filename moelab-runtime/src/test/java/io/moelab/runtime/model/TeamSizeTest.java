package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.ProductTeam;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Decoding gives the same bits whatever the product team's size: every row is computed by the same kernel on
 * whichever thread, and the experts' SwiGLU blocks go whole to threads (two experts on one or two threads, for
 * light blocks) or split by rows (on three threads, or for heavy blocks). The model is large enough (hidden 256,
 * experts of 256) that the experts' jobs really run on the workers.
 */
class TeamSizeTest {
    private static final int[] TOKENS = {4, 9, 33, 2, 47, 11};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"INT4_I8", "PACKED", "Q8"})
    void decodedLogitsDoNotDependOnTheTeamSize(WeightFormat format) throws Exception {
        TinyModel tiny = TinyModel.create(Family.MIXTRAL, DType.F32, 7, true, c -> {
            c.put("hidden_size", 256);
            c.put("intermediate_size", 256);
            c.put("num_hidden_layers", 2);
        });
        Path dir = tiny.write(tmp.resolve("m"));
        int before = ProductTeam.shared().threads();
        List<float[][]> runs = new ArrayList<>();
        try (MoeModel model = MoeModel.load(dir, format)) {
            // From cold kernels: the bits must not depend on which tier runs them either.
            for (int threads : new int[] {1, 2, 3}) {
                ProductTeam.useShared(threads);
                KvCache cache = model.newCache(TOKENS.length);
                float[][] logits = new float[TOKENS.length][];
                for (int t = 0; t < TOKENS.length; t++) {
                    logits[t] = model.forward(TOKENS[t], t, cache);
                }
                runs.add(logits);
            }
        } finally {
            ProductTeam.useShared(before);
        }
        for (int k = 1; k < runs.size(); k++) {
            for (int t = 0; t < TOKENS.length; t++) {
                for (int i = 0; i < runs.get(0)[t].length; i++) {
                    assertThat(Float.floatToRawIntBits(runs.get(k)[t][i]))
                            .as("%s, team of %d, position %d, logit %d", format, k + 1, t, i)
                            .isEqualTo(Float.floatToRawIntBits(runs.get(0)[t][i]));
                }
            }
        }
    }
}
