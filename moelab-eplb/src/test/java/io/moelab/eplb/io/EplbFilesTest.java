package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.DeepSeekBalancer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** RebalanceInput, PlacementFile and AtomicFiles. */
class EplbFilesTest {
    @TempDir
    Path dir;

    private Path file(String content) throws IOException {
        return Files.writeString(dir.resolve("in.json"), content);
    }

    @Test
    void readsRebalanceInputWithHistory() throws IOException {
        RebalanceInput in = RebalanceInput.read(file("""
                {"extra": {"ignored": [1, 2]}, "weight": [[1, 2], [3, 4]],
                 "history": [[[0, 1], [1, 0]], [[2, 2], [2, 2]]],
                 "num_replicas": 4, "num_groups": 1, "num_nodes": 1, "num_gpus": 2}"""));
        assertThat(in.weight()).isEqualTo(LoadMatrix.of(new double[][] {{1, 2}, {3, 4}}, "w"));
        assertThat(in.history()).hasSize(2);
        assertThat(in.history().get(1).load(0, 0)).isEqualTo(2);
        assertThat(in.topology(null, null, null, null)).isEqualTo(new Topology(4, 1, 1, 2));
        assertThat(in.topology(8, null, null, 4)).isEqualTo(new Topology(8, 1, 1, 4));
    }

    @Test
    void rebalanceInputErrorsNameTheField() throws IOException {
        assertThatThrownBy(() -> RebalanceInput.read(file("{\"weight\": [[1, 2]]}")).topology(null, null, null, 2))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("num_replicas: missing (give it in the input file or with --replicas)");
        assertThatThrownBy(() -> RebalanceInput.read(file("{\"num_gpus\": 2}"))).hasMessageStartingWith("weight: missing");
        assertThatThrownBy(() -> RebalanceInput.read(file("{\"weight\": [[1, 2]], \"num_gpus\": 2.5}")))
                .hasMessage("num_gpus: expected an integer but found 2.5");
        assertThatThrownBy(() -> RebalanceInput.read(file("{\"weight\": [[1, 2]], \"num_gpus\": \"2\"}")))
                .hasMessage("num_gpus: expected an integer but found a string");
        assertThatThrownBy(() -> RebalanceInput.read(file("{\"weight\": [[1, 2]], \"history\": [[[1]]]}")))
                .hasMessageStartingWith("history[0]");
        assertThatThrownBy(() -> RebalanceInput.read(file("{\"weight\": [[1, 2]], \"history\": 3}")))
                .hasMessageStartingWith("history: expected [windows][layers][experts]");
        assertThatThrownBy(() -> RebalanceInput.read(file("[1, 2]"))).hasMessageContaining("expected a JSON object");
        assertThatThrownBy(() -> RebalanceInput.read(dir.resolve("none.json"))).hasMessageEndingWith("no such file");
        assertThatThrownBy(() -> RebalanceInput.read(dir)).hasMessageContaining("is a directory");
    }

    @Test
    void placementFileRoundTripsAndHoldsTheReferenceArrays() throws IOException {
        Topology t = new Topology(16, 4, 2, 8);
        LoadMatrix load = LoadMatrix.of(new double[][] {{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
                {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}}, "w");
        Placement p = new DeepSeekBalancer().rebalance(BalancingRequest.of(load, t));
        Path out = dir.resolve("sub/placement.json");
        PlacementFile.write(out, "deepseek", p);

        Placement back = PlacementFile.read(out, 12, null);
        assertThat(back.phy2log()).isDeepEqualTo(p.phy2log());
        assertThat(back.topology()).isEqualTo(t);

        JsonNode json = JsonMapper.builder().build().readTree(out.toFile());
        assertThat(json.get("algorithm").asString()).isEqualTo("deepseek");
        assertThat(json.get("num_replicas").asInt()).isEqualTo(16);
        assertThat(json.get("num_groups").asInt()).isEqualTo(4);
        assertThat(json.get("num_nodes").asInt()).isEqualTo(2);
        assertThat(json.get("num_gpus").asInt()).isEqualTo(8);
        int[][][] log2phy = p.log2phy();
        for (int l = 0; l < 2; l++) {
            for (int s = 0; s < 16; s++) {
                assertThat(json.get("phy2log").get(l).get(s).asInt()).isEqualTo(p.expertAt(l, s));
            }
            for (int e = 0; e < 12; e++) {
                assertThat(json.get("logcnt").get(l).get(e).asInt()).isEqualTo(p.replicaCount(l, e));
                for (int k = 0; k < log2phy[l][e].length; k++) {
                    assertThat(json.get("log2phy").get(l).get(e).get(k).asInt()).isEqualTo(log2phy[l][e][k]);
                }
            }
        }
    }

    @Test
    void placementFileTopologyFallsBackWhereTheFileHasNone() throws IOException {
        Path f = file("{\"phy2log\": [[0, 1, 2, 0]], \"num_gpus\": 2}");
        Placement p = PlacementFile.read(f, 3, new Topology(4, 1, 1, 4));
        assertThat(p.topology()).isEqualTo(new Topology(4, 1, 1, 2));
        assertThatThrownBy(() -> PlacementFile.read(f, 3, null)).hasMessageStartingWith("num_replicas: missing");
        assertThatThrownBy(() -> PlacementFile.read(file("{\"phy2log\": [[0, 1.5]]}"), 2, new Topology(2, 1, 1, 1)))
                .hasMessageStartingWith("phy2log[0][1]: expected an expert index");
        assertThatThrownBy(() -> PlacementFile.read(file("{\"num_gpus\": 1}"), 2, new Topology(2, 1, 1, 1)))
                .hasMessageContaining("has no \"phy2log\"");
        assertThatThrownBy(() -> PlacementFile.read(file("{\"phy2log\": [[0, 5]]}"), 2, new Topology(2, 1, 1, 1)))
                .hasMessageStartingWith("phy2log[0][1]: expert 5 is out of range");
    }

    @Test
    void atomicWriteReplacesTheTargetWhole() throws IOException {
        Path target = dir.resolve("a/b/out.txt");
        AtomicFiles.writeString(target, "first");
        AtomicFiles.writeString(target, "second");
        assertThat(target).hasContent("second");
        assertThat(Files.getPosixFilePermissions(target).toString()).contains("OTHERS_READ");
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertThat(files).containsExactly(target);
        }
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("out.txt");
        AtomicFiles.writeString(target, "old");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("half".getBytes());
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(target).hasContent("old");
        Path fresh = dir.resolve("fresh.txt");
        assertThatThrownBy(() -> AtomicFiles.write(fresh, out -> {
            throw new IllegalStateException("boom");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(fresh).doesNotExist();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("out.txt");
        }
    }
}
