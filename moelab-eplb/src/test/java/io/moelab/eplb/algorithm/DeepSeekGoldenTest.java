package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The port against outputs of DeepSeek's reference EPLB (deepseek-ai/EPLB eplb.py, commit d52c72d, run with
 * PyTorch 1.13, every sort made stable): 209 cases from the README example to full DeepSeek-V3 shapes.
 */
class DeepSeekGoldenTest {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    record GoldenCase(String name, JsonNode node) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<GoldenCase> cases() throws IOException {
        List<GoldenCase> cases = new ArrayList<>();
        try (InputStream raw = DeepSeekGoldenTest.class.getResourceAsStream("/eplb-golden.jsonl.gz");
             BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw),
                     StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode node = JSON.readTree(line);
                cases.add(new GoldenCase(node.get("name").asString(), node));
            }
        }
        return cases.stream();
    }

    @Test
    void goldenFileHasAll209Cases() throws IOException {
        assertThat(cases().count()).isEqualTo(209);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reproducesTheStableReference(GoldenCase c) {
        JsonNode n = c.node();
        Topology topology = new Topology(n.get("num_replicas").asInt(), n.get("num_groups").asInt(),
                n.get("num_nodes").asInt(), n.get("num_gpus").asInt());
        LoadMatrix weight = LoadMatrix.of(doubles(n.get("weight")), "weight");
        assertThat(topology.groupsDivideNodes())
                .as("policy").isEqualTo(n.get("policy").asString().equals("hierarchical"));

        Placement placement = new DeepSeekBalancer().rebalance(BalancingRequest.of(weight, topology));

        assertThat(placement.phy2log()).as("phy2log").isDeepEqualTo(ints(n.get("stable_phy2log")));
        assertThat(placement.logcnt()).as("logcnt").isDeepEqualTo(ints(n.get("stable_logcnt")));
        // log2phy: the same replica ranks as the reference, and each expert's slots are those phy2log gives it.
        int[][][] log2phy = placement.log2phy();
        JsonNode expected = n.get("stable_log2phy");
        int[][][] reference = new int[expected.size()][][];
        for (int l = 0; l < reference.length; l++) {
            reference[l] = ints(expected.get(l));
        }
        assertThat(log2phy).as("log2phy").isDeepEqualTo(reference);
        int[][] phy2log = placement.phy2log();
        for (int l = 0; l < log2phy.length; l++) {
            for (int e = 0; e < log2phy[l].length; e++) {
                Set<Integer> slotsOfE = new HashSet<>();
                for (int p = 0; p < phy2log[l].length; p++) {
                    if (phy2log[l][p] == e) {
                        slotsOfE.add(p);
                    }
                }
                assertThat(slotSet(log2phy[l][e])).as("log2phy[%d][%d]", l, e).isEqualTo(slotsOfE);
            }
        }
        if (!n.get("tie_sensitive").asBoolean()) {
            // Where ties cannot matter, the reference as it ran (unstable sorts) agrees too.
            assertThat(placement.phy2log()).as("unstable phy2log").isDeepEqualTo(ints(n.get("phy2log")));
        }
    }

    private static Set<Integer> slotSet(int[] slots) {
        Set<Integer> set = new HashSet<>();
        for (int s : slots) {
            if (s >= 0) {
                set.add(s);
            }
        }
        return set;
    }

    static double[][] doubles(JsonNode matrix) {
        double[][] out = new double[matrix.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = matrix.get(i);
            out[i] = new double[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = row.get(j).asDouble();
            }
        }
        return out;
    }

    static int[][] ints(JsonNode matrix) {
        int[][] out = new int[matrix.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = matrix.get(i);
            out[i] = new int[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = row.get(j).asInt();
            }
        }
        return out;
    }
}
