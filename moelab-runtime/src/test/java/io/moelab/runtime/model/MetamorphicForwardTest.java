package io.moelab.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.trace.ExpertLoadRecorder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Metamorphic relations of the forward pass: two checkpoints that differ in how they are written but compute the same
 * function (experts or heads renumbered, KV heads repeated, all experts of a uniform router folded into one, a shared
 * expert that adds nothing left out) give the same logits, batched and decoded. They need no reference forward pass,
 * so they catch indexing and wiring faults that {@link MoeModel} and {@link ReferenceForward} could share (both were
 * written by one team from one reading of the modeling code).
 *
 * <p>Both checkpoints are F32 and hold the same numbers; only the order of some float sums differs (the softmax
 * denominator over renumbered experts, an RMSNorm over a repeated projection, one down projection over concatenated
 * experts instead of a weighted sum of several). Each such sum has at most a few dozen terms, so it moves a value by
 * a few float32 ulps (6e-8 relative each); through three layers and the output projection that stays near 1e-6 of the
 * logits' scale (the largest seen over hundreds of random cases, wide models, packed weights and teams of 1 to 4
 * threads was 1.05e-6), and {@link #TOLERANCE} leaves a margin of ten over that. A wiring fault (another expert,
 * another KV head, a weight applied twice or not at all) moves the logits by hundredths of their scale or more, as
 * {@link #theRelationsDetectAMiswiredVariant} checks.
 */
class MetamorphicForwardTest {
    /** Largest difference allowed, relative to the largest logit's magnitude. */
    private static final double TOLERANCE = 1e-5;
    private static final int EXAMPLES = 4;
    private static final AtomicInteger DIRS = new AtomicInteger();

    @TempDir
    Path tmp;

    /**
     * Experts renumbered by a permutation in one MoE layer (tensors {@code experts.E.*} moved to {@code experts.p(E)},
     * router rows moved the same way) give the same logits, and every token is routed to the renumbered experts in
     * the same order, which the expert-load recorder counts under the new numbers.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void renumberingExpertsChangesOnlyTheirNumbers(Family family) {
        qt().withFixedSeed(0xE4E4L + family.ordinal()).withExamples(EXAMPLES)
                .forAll(longs().all(), integers().between(2, 6), integers().between(1, 6), booleans().all())
                .checkAssert((seed, experts, k, norm) -> {
                    int topK = Math.min(k, experts);
                    TinyModel a = TinyModel.create(family, DType.F32, seed, false, c -> {
                        c.put(family.expertsKey(), experts);
                        c.put("num_experts_per_tok", topK);
                        if (family != Family.MIXTRAL) {
                            c.put("norm_topk_prob", norm);
                        }
                    });
                    Random random = new Random(seed);
                    List<Integer> moe = moeLayers(a);
                    int layer = moe.get(random.nextInt(moe.size()));
                    int[] p = permutation(experts, random);
                    TinyModel b = a.derive(c -> { });
                    for (int e = 0; e < experts; e++) {
                        String[] from = family.expert(layer, e);
                        String[] to = family.expert(layer, p[e]);
                        for (int i = 0; i < 3; i++) {
                            b.weights.put(to[i], a.weights.get(from[i]));
                        }
                    }
                    int h = a.hidden();
                    double[] router = a.weights.get(family.router(layer));
                    double[] moved = new double[router.length];
                    for (int e = 0; e < experts; e++) {
                        System.arraycopy(router, e * h, moved, p[e] * h, h);
                    }
                    b.weights.put(family.router(layer), moved);
                    int[] tokens = tokens(random);
                    String what = family + " seed " + seed + " experts " + experts + " top-" + topK + " layer "
                            + layer + " permutation " + Arrays.toString(p);
                    try (MoeModel ma = load(a); MoeModel mb = load(b)) {
                        List<int[]> heardA = new ArrayList<>();
                        List<int[]> heardB = new ArrayList<>();
                        ma.routingListener((l, chosen) -> heardA.add(routed(l, chosen)));
                        mb.routingListener((l, chosen) -> heardB.add(routed(l, chosen)));
                        ExpertLoadRecorder recA = new ExpertLoadRecorder(ma.config());
                        ExpertLoadRecorder recB = new ExpertLoadRecorder(mb.config());
                        float[][] la = ma.logits(tokens);
                        float[][] lb = mb.logits(tokens);
                        assertClose(la, lb, what + " (prefill)");
                        assertClose(CompiledKernels.decoded(ma, tokens), CompiledKernels.decoded(mb, tokens),
                                what + " (decode)");
                        assertThat(heardB).as(what).hasSameSizeAs(heardA);
                        for (int i = 0; i < heardA.size(); i++) {
                            int[] expected = heardA.get(i).clone();
                            if (expected[0] == layer) {
                                for (int j = 1; j < expected.length; j++) {
                                    expected[j] = p[expected[j]];
                                }
                            }
                            assertThat(heardB.get(i)).as("%s: routing %d", what, i).containsExactly(expected);
                        }
                        ma.routingListener(recA);
                        mb.routingListener(recB);
                        ma.logits(tokens);
                        mb.logits(tokens);
                        recA.endStep();
                        recB.endStep();
                        long[][] countsA = recA.steps().getFirst();
                        long[][] countsB = recB.steps().getFirst();
                        for (int m = 0; m < moe.size(); m++) {
                            long[] expected = countsA[m].clone();
                            if (moe.get(m) == layer) {
                                for (int e = 0; e < experts; e++) {
                                    expected[p[e]] = countsA[m][e];
                                }
                            }
                            assertThat(countsB[m]).as("%s: load of MoE layer %d", what, moe.get(m))
                                    .containsExactly(expected);
                        }
                    }
                });
    }

    /**
     * Grouped-query attention with {@code heads / g} KV heads equals multi-head attention over the same KV heads
     * written out {@code g} times, query head {@code h} reading KV head {@code h / g} as transformers' repeat_kv
     * lays them out: k and v rows (and biases) repeated per head. OLMoE's k norm spans the whole k projection, so
     * its weights repeat with the heads (the mean square of a projection repeated g times is the original's); the
     * Qwen3-MoE per-head k norm is shared by every head and stays.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void groupedQueryAttentionEqualsTheKvHeadsRepeated(Family family) {
        qt().withFixedSeed(0x6A6AL + family.ordinal()).withExamples(EXAMPLES)
                .forAll(longs().all(), integers().between(0, 2), integers().between(0, 3), booleans().all())
                .checkAssert((seed, headsLog, groupLog, bias) -> {
                    int heads = 2 << headsLog;
                    int g = 1 << Math.min(groupLog, headsLog + 1);
                    TinyModel a = TinyModel.create(family, DType.F32, seed, false, c -> {
                        c.put("num_attention_heads", heads);
                        c.put("num_key_value_heads", heads / g);
                        c.put("attention_bias", bias);
                        c.put("qkv_bias", bias);
                    });
                    TinyModel b = a.derive(c -> c.put("num_key_value_heads", heads));
                    int hd = a.headDim();
                    for (int l = 0; l < a.config.get("num_hidden_layers").asInt(); l++) {
                        String at = Family.layer(l) + "self_attn.";
                        for (String name : new String[] {"k_proj.weight", "v_proj.weight", "k_proj.bias",
                                "v_proj.bias", family == Family.OLMOE ? "k_norm.weight" : null}) {
                            if (name != null && a.weights.containsKey(at + name)) {
                                repeatHeads(a, b, at + name, heads, g, hd);
                            }
                        }
                    }
                    String what = family + " seed " + seed + " heads " + heads + " kv heads " + heads / g
                            + (bias ? " with biases" : "");
                    assertSameFunction(a, b, tokens(new Random(seed)), what);
                });
    }

    /**
     * Attention heads renumbered give the same logits: KV head {@code g} moved to {@code p(g)} with its group of query
     * heads, the query heads within each group renumbered too, and the output projection's columns, the biases and
     * OLMoE's whole-projection q/k norm weights moved with their heads.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void renumberingHeadsWithTheirKvGroupsChangesNothing(Family family) {
        qt().withFixedSeed(0x4EADL + family.ordinal()).withExamples(EXAMPLES)
                .forAll(longs().all(), integers().between(0, 2), integers().between(0, 3), booleans().all())
                .checkAssert((seed, headsLog, groupLog, bias) -> {
                    int heads = 2 << headsLog;
                    int g = 1 << Math.min(groupLog, headsLog + 1);
                    int kv = heads / g;
                    TinyModel a = TinyModel.create(family, DType.F32, seed, false, c -> {
                        c.put("num_attention_heads", heads);
                        c.put("num_key_value_heads", kv);
                        c.put("attention_bias", bias);
                        c.put("qkv_bias", bias);
                    });
                    Random random = new Random(seed);
                    int[] groups = permutation(kv, random);
                    int[] within = permutation(g, random);
                    int[] query = new int[heads];
                    for (int n = 0; n < heads; n++) {
                        query[n] = groups[n / g] * g + within[n % g];
                    }
                    TinyModel b = a.derive(c -> { });
                    int h = a.hidden();
                    int hd = a.headDim();
                    for (int l = 0; l < a.config.get("num_hidden_layers").asInt(); l++) {
                        String at = Family.layer(l) + "self_attn.";
                        for (String name : new String[] {"q_proj.weight", "q_proj.bias", "k_proj.weight",
                                "k_proj.bias", "v_proj.weight", "v_proj.bias", "q_norm.weight", "k_norm.weight"}) {
                            boolean perHead = family != Family.OLMOE && name.endsWith("norm.weight");
                            if (a.weights.containsKey(at + name) && !perHead) {
                                b.weights.put(at + name, moveBlocks(a.weights.get(at + name),
                                        name.startsWith("q") ? query : groups));
                            }
                        }
                        double[] o = a.weights.get(at + "o_proj.weight");
                        double[] moved = new double[o.length];
                        for (int r = 0; r < h; r++) {
                            for (int n = 0; n < heads; n++) {
                                System.arraycopy(o, r * heads * hd + n * hd, moved, r * heads * hd + query[n] * hd,
                                        hd);
                            }
                        }
                        b.weights.put(at + "o_proj.weight", moved);
                    }
                    String what = family + " seed " + seed + " heads " + heads + " kv heads " + kv + " groups "
                            + Arrays.toString(groups) + " within " + Arrays.toString(within);
                    assertSameFunction(a, b, tokens(random), what);
                });
    }

    /**
     * With every expert chosen ({@code top_k = num_experts}) the routing weights are the whole softmax, which sums to
     * one, so renormalizing them ({@code norm_topk_prob}) changes nothing. Mixtral always renormalizes.
     */
    @ParameterizedTest
    @EnumSource(value = Family.class, names = {"QWEN2_MOE", "QWEN3_MOE", "OLMOE"})
    void renormalizingAllExpertsChangesNothing(Family family) {
        qt().withFixedSeed(0x707AL + family.ordinal()).withExamples(EXAMPLES)
                .forAll(longs().all(), integers().between(1, 6))
                .checkAssert((seed, experts) -> {
                    TinyModel a = TinyModel.create(family, DType.F32, seed, false, c -> {
                        c.put(family.expertsKey(), experts);
                        c.put("num_experts_per_tok", experts);
                        c.put("norm_topk_prob", false);
                    });
                    TinyModel b = a.derive(c -> c.put("norm_topk_prob", true));
                    assertSameFunction(a, b, tokens(new Random(seed)), family + " seed " + seed + " experts "
                            + experts);
                });
    }

    /**
     * A router of zeros with every expert chosen weighs each of {@code E} experts {@code 1 / E}: the block is the
     * mean of the experts, which one expert computes whose gate and up rows are all the experts' stacked and whose
     * down projection is theirs side by side, divided by {@code E} (a power of two, so exactly). For the Qwen
     * families the same sum is also a dense MLP layer ({@code mlp_only_layers}) of that size.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void allExpertsOfAUniformRouterAreOneConcatenatedExpert(Family family) {
        qt().withFixedSeed(0xC0C0L + family.ordinal()).withExamples(EXAMPLES)
                .forAll(longs().all(), integers().between(0, 3), booleans().all())
                .checkAssert((seed, expertsLog, norm) -> {
                    int experts = 1 << expertsLog;
                    boolean qwen = family.choosesSparseLayers();
                    int inner = 8;
                    TinyModel a = TinyModel.create(family, DType.F32, seed, false, c -> {
                        c.put(family.expertsKey(), experts);
                        c.put("num_experts_per_tok", experts);
                        if (family != Family.MIXTRAL) {
                            c.put("norm_topk_prob", norm);
                        }
                        // Qwen: dense layers of the concatenated size, so the dense variant below can take them.
                        c.put("intermediate_size", qwen ? experts * inner : inner);
                        if (qwen) {
                            c.put("moe_intermediate_size", inner);
                        }
                        if (family == Family.QWEN2_MOE) {
                            c.put("shared_expert_intermediate_size", 0);
                        }
                    });
                    dropSharedExperts(a);
                    List<Integer> moe = moeLayers(a);
                    for (int l : moe) {
                        a.weights.put(family.router(l), new double[experts * a.hidden()]);
                    }
                    TinyModel one = a.derive(c -> {
                        c.put(family.expertsKey(), 1);
                        c.put("num_experts_per_tok", 1);
                        c.put(qwen ? "moe_intermediate_size" : "intermediate_size", experts * inner);
                    });
                    for (int l : moe) {
                        String[] merged = family.expert(l, 0);
                        concatenate(a, one, l, experts, merged);
                        one.weights.put(family.router(l), new double[a.hidden()]);
                        one.shapes.put(family.router(l), new long[] {1, a.hidden()});
                        for (int e = 1; e < experts; e++) {
                            for (String name : family.expert(l, e)) {
                                one.weights.remove(name);
                                one.shapes.remove(name);
                            }
                        }
                    }
                    int[] tokens = tokens(new Random(seed));
                    String what = family + " seed " + seed + " experts " + experts;
                    assertSameFunction(a, one, tokens, what + " against one expert");
                    if (qwen) {
                        TinyModel dense = a.derive(c -> {
                            var only = c.putArray("mlp_only_layers");
                            for (int l = 0; l < c.get("num_hidden_layers").asInt(); l++) {
                                only.add(l);
                            }
                        });
                        for (int l : moe) {
                            concatenate(a, dense, l, experts, Family.mlp(Family.layer(l) + "mlp."));
                            dense.weights.remove(family.router(l));
                            dense.shapes.remove(family.router(l));
                            for (int e = 0; e < experts; e++) {
                                for (String name : family.expert(l, e)) {
                                    dense.weights.remove(name);
                                    dense.shapes.remove(name);
                                }
                            }
                        }
                        assertSameFunction(a, dense, tokens, what + " against a dense MLP");
                    }
                });
    }

    /**
     * Identical experts under a random router give that expert's output whatever the routing, when the chosen
     * experts' weights sum to one: renormalized ({@code norm_topk_prob}, always for Mixtral) for any top-k. So the
     * model equals the one with that single expert.
     */
    @ParameterizedTest
    @EnumSource(Family.class)
    void renormalizedIdenticalExpertsAreOneExpert(Family family) {
        qt().withFixedSeed(0x1D1DL + family.ordinal()).withExamples(EXAMPLES)
                .forAll(longs().all(), integers().between(2, 6), integers().between(1, 6))
                .checkAssert((seed, experts, k) -> {
                    int topK = Math.min(k, experts);
                    TinyModel a = TinyModel.create(family, DType.F32, seed, false, c -> {
                        c.put(family.expertsKey(), experts);
                        c.put("num_experts_per_tok", topK);
                        if (family != Family.MIXTRAL) {
                            c.put("norm_topk_prob", true);
                        }
                    });
                    List<Integer> moe = moeLayers(a);
                    for (int l : moe) {
                        String[] first = family.expert(l, 0);
                        for (int e = 1; e < experts; e++) {
                            String[] other = family.expert(l, e);
                            for (int i = 0; i < 3; i++) {
                                a.weights.put(other[i], a.weights.get(first[i]));
                            }
                        }
                    }
                    TinyModel one = a.derive(c -> {
                        c.put(family.expertsKey(), 1);
                        c.put("num_experts_per_tok", 1);
                    });
                    for (int l : moe) {
                        one.weights.put(family.router(l), Arrays.copyOf(a.weights.get(family.router(l)), a.hidden()));
                        one.shapes.put(family.router(l), new long[] {1, a.hidden()});
                        for (int e = 1; e < experts; e++) {
                            for (String name : family.expert(l, e)) {
                                one.weights.remove(name);
                                one.shapes.remove(name);
                            }
                        }
                    }
                    assertSameFunction(a, one, tokens(new Random(seed)), family + " seed " + seed + " experts "
                            + experts + " top-" + topK);
                });
    }

    /**
     * Qwen2-MoE's shared expert with a down projection of zeros adds nothing: the model equals one without a shared
     * expert ({@code shared_expert_intermediate_size} 0, no shared tensors).
     */
    @Test
    void aSharedExpertThatOutputsZeroIsNoSharedExpert() {
        qt().withFixedSeed(0x5E5EL).withExamples(EXAMPLES).forAll(longs().all()).checkAssert(seed -> {
            TinyModel a = TinyModel.create(Family.QWEN2_MOE, DType.F32, seed);
            TinyModel none = a.derive(c -> c.put("shared_expert_intermediate_size", 0));
            dropSharedExperts(none);
            for (int l : moeLayers(a)) {
                String down = Family.layer(l) + "mlp.shared_expert.down_proj.weight";
                a.weights.put(down, new double[a.weights.get(down).length]);
            }
            assertSameFunction(a, none, tokens(new Random(seed)), "seed " + seed);
        });
    }

    /**
     * Qwen2-MoE's shared expert behind a gate of zeros is weighed sigmoid(0) = 1/2 for every token, as a second
     * routed expert under a router of zeros with top-2 of 2 is: one routed expert with its down projection halved
     * plus the shared expert gated by zeros equals those two as routed experts and no shared expert.
     */
    @Test
    void aSharedExpertGatedByZerosIsAHalfWeightedRoutedExpert() {
        qt().withFixedSeed(0x5A5AL).withExamples(EXAMPLES).forAll(longs().all(), booleans().all())
                .checkAssert((seed, norm) -> {
                    int inner = 12;
                    TinyModel a = TinyModel.create(Family.QWEN2_MOE, DType.F32, seed, false, c -> {
                        c.put("num_experts", 1);
                        c.put("num_experts_per_tok", 1);
                        c.put("moe_intermediate_size", inner);
                        c.put("shared_expert_intermediate_size", inner);
                        c.put("norm_topk_prob", norm);
                    });
                    TinyModel two = a.derive(c -> {
                        c.put("num_experts", 2);
                        c.put("num_experts_per_tok", 2);
                        c.put("shared_expert_intermediate_size", 0);
                    });
                    dropSharedExperts(two);
                    int h = a.hidden();
                    for (int l : moeLayers(a)) {
                        String p = Family.layer(l) + "mlp.";
                        a.weights.put(p + "shared_expert_gate.weight", new double[h]);
                        String[] routed = Family.QWEN2_MOE.expert(l, 0);
                        String[] shared = Family.mlp(p + "shared_expert.");
                        String[] second = Family.QWEN2_MOE.expert(l, 1);
                        for (int i = 0; i < 3; i++) {
                            two.weights.put(second[i], a.weights.get(shared[i]));
                            two.shapes.put(second[i], a.shapes.get(shared[i]));
                        }
                        two.weights.put(routed[2], a.weights.get(routed[2]));
                        two.weights.put(p + "gate.weight", new double[2 * h]);
                        two.shapes.put(p + "gate.weight", new long[] {2, h});
                        // Halved (exactly: a power of two) so that the single expert's weight of 1 gives 1/2.
                        double[] halved = a.weights.get(routed[2]).clone();
                        for (int i = 0; i < halved.length; i++) {
                            halved[i] /= 2;
                        }
                        a.weights.put(routed[2], halved);
                    }
                    assertSameFunction(a, two, tokens(new Random(seed)), "seed " + seed);
                });
    }

    /**
     * The relations are not vacuous: the same variants wired wrongly (experts renumbered without their router rows,
     * KV heads repeated as h mod kvHeads instead of h / g) give logits far apart.
     */
    @Test
    void theRelationsDetectAMiswiredVariant() {
        TinyModel a = TinyModel.create(Family.MIXTRAL, DType.F32, 3);
        TinyModel b = a.derive(c -> { });
        for (int e = 0; e < 4; e++) {
            String[] from = Family.MIXTRAL.expert(0, e);
            String[] to = Family.MIXTRAL.expert(0, (e + 1) % 4);
            for (int i = 0; i < 3; i++) {
                b.weights.put(to[i], a.weights.get(from[i]));
            }
        }
        int[] tokens = tokens(new Random(3));
        assertThat(maxDifference(a, b, tokens)).isGreaterThan(0.05);

        TinyModel gqa = TinyModel.create(Family.QWEN3_MOE, DType.F32, 3);
        TinyModel wrong = gqa.derive(c -> c.put("num_key_value_heads", 4));
        int hd = gqa.headDim();
        int h = gqa.hidden();
        for (int l = 0; l < 3; l++) {
            for (String name : new String[] {"k_proj.weight", "v_proj.weight"}) {
                String n = Family.layer(l) + "self_attn." + name;
                double[] src = gqa.weights.get(n);
                double[] out = new double[4 * hd * h];
                for (int head = 0; head < 4; head++) {
                    System.arraycopy(src, (head % 2) * hd * h, out, head * hd * h, hd * h);
                }
                wrong.weights.put(n, out);
                wrong.shapes.put(n, new long[] {4L * hd, h});
            }
        }
        assertThat(maxDifference(gqa, wrong, tokens)).isGreaterThan(0.05);
    }

    private static int[] routed(int layer, int[] chosen) {
        int[] r = new int[chosen.length + 1];
        r[0] = layer;
        System.arraycopy(chosen, 0, r, 1, chosen.length);
        return r;
    }

    /** A random permutation of 0..n-1, other than the identity where n > 1. */
    private static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        if (n > 1 && Arrays.equals(p, java.util.stream.IntStream.range(0, n).toArray())) {
            p[0] = 1;
            p[1] = 0;
        }
        return p;
    }

    /** 1 to 9 tokens of the tiny vocabulary. */
    private static int[] tokens(Random random) {
        int[] t = new int[1 + random.nextInt(9)];
        for (int i = 0; i < t.length; i++) {
            t[i] = random.nextInt(50);
        }
        return t;
    }

    private static List<Integer> moeLayers(TinyModel m) {
        List<Integer> out = new ArrayList<>();
        for (int l = 0; l < m.config.get("num_hidden_layers").asInt(); l++) {
            if (m.moeLayer(l)) {
                out.add(l);
            }
        }
        return out;
    }

    private static void dropSharedExperts(TinyModel m) {
        m.weights.keySet().removeIf(n -> n.contains(".shared_expert"));
        m.shapes.keySet().removeIf(n -> n.contains(".shared_expert"));
    }

    /** {@code v} cut into {@code p.length} equal blocks, block {@code i} moved to {@code p[i]}. */
    private static double[] moveBlocks(double[] v, int[] p) {
        int block = v.length / p.length;
        double[] out = new double[v.length];
        for (int i = 0; i < p.length; i++) {
            System.arraycopy(v, i * block, out, p[i] * block, block);
        }
        return out;
    }

    /** Into {@code to}: KV head {@code n} of tensor {@code name} is {@code from}'s head {@code n / g}. */
    private static void repeatHeads(TinyModel from, TinyModel to, String name, int heads, int g, int hd) {
        double[] src = from.weights.get(name);
        long[] shape = from.shapes.get(name).clone();
        int block = src.length / (heads / g);
        double[] out = new double[block * heads];
        for (int n = 0; n < heads; n++) {
            System.arraycopy(src, (n / g) * block, out, n * block, block);
        }
        shape[0] = (long) hd * heads;
        to.weights.put(name, out);
        to.shapes.put(name, shape);
    }

    /**
     * Into {@code to}'s SwiGLU {@code names} (gate, up, down): layer {@code l}'s experts of {@code from} as one, gate
     * and up rows stacked, down columns side by side and divided by the number of experts.
     */
    private static void concatenate(TinyModel from, TinyModel to, int l, int experts, String[] names) {
        int h = from.hidden();
        int inner = from.weights.get(from.family.expert(l, 0)[0]).length / h;
        for (int i = 0; i < 2; i++) {
            double[] out = new double[experts * inner * h];
            for (int e = 0; e < experts; e++) {
                System.arraycopy(from.weights.get(from.family.expert(l, e)[i]), 0, out, e * inner * h, inner * h);
            }
            to.weights.put(names[i], out);
            to.shapes.put(names[i], new long[] {(long) experts * inner, h});
        }
        int width = experts * inner;
        double[] down = new double[h * width];
        for (int e = 0; e < experts; e++) {
            double[] d = from.weights.get(from.family.expert(l, e)[2]);
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < inner; c++) {
                    down[r * width + e * inner + c] = d[r * inner + c] / experts;
                }
            }
        }
        to.weights.put(names[2], down);
        to.shapes.put(names[2], new long[] {h, width});
    }

    private MoeModel load(TinyModel m) {
        try {
            return MoeModel.load(m.write(tmp.resolve("m" + DIRS.incrementAndGet())), WeightFormat.STORED);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Both models' logits agree within the tolerance, batched (prefill) and decoded token by token. */
    private void assertSameFunction(TinyModel a, TinyModel b, int[] tokens, String what) {
        try (MoeModel ma = load(a); MoeModel mb = load(b)) {
            assertClose(ma.logits(tokens), mb.logits(tokens), what + " (prefill)");
            assertClose(CompiledKernels.decoded(ma, tokens), CompiledKernels.decoded(mb, tokens), what + " (decode)");
        }
    }

    /** The largest difference of the two models' logits, relative to the largest logit. */
    private double maxDifference(TinyModel a, TinyModel b, int[] tokens) {
        try (MoeModel ma = load(a); MoeModel mb = load(b)) {
            float[][] x = ma.logits(tokens);
            float[][] y = mb.logits(tokens);
            double scale = 0;
            double diff = 0;
            for (int t = 0; t < x.length; t++) {
                for (int i = 0; i < x[t].length; i++) {
                    scale = Math.max(scale, Math.abs(x[t][i]));
                    diff = Math.max(diff, Math.abs(x[t][i] - y[t][i]));
                }
            }
            return diff / scale;
        }
    }

    private static void assertClose(float[][] expected, float[][] actual, String what) {
        assertThat(actual).as(what).hasSameDimensionsAs(expected);
        double scale = 0;
        for (float[] row : expected) {
            for (float v : row) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        for (int t = 0; t < expected.length; t++) {
            for (int i = 0; i < expected[t].length; i++) {
                assertThat((double) actual[t][i]).as("%s: position %d logit %d", what, t, i)
                        .isCloseTo(expected[t][i], org.assertj.core.data.Offset.offset(TOLERANCE * scale));
            }
        }
    }
}
