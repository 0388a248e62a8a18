package io.moelab.train.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.moelab.train.engine.Pytorch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MoeFactoryTest {
    @Test
    void theModelTakesItsMoeLayersFromTheFactory() {
        ModelSpec spec = new ModelSpec(258, 3, 16, 2, 1, 4, 1, 8, false, 10000, 1e-6);
        List<Integer> made = new ArrayList<>();
        // A different design: a router, and every "expert" the identity (no expert parameters at all).
        MoeFactory identity = (layer, prefix, s, params, residualStd) -> {
            made.add(layer);
            var router = params.normal(prefix + "mlp.router.weight", 0.02, s.experts(), s.dModel());
            ExpertBank same = new ExpertBank() {
                @Override
                public int size() {
                    return s.experts();
                }

                @Override
                public ai.djl.ndarray.NDArray apply(int expert, ai.djl.ndarray.NDArray x) {
                    return x;
                }
            };
            return new MoeLayer(new LinearRouter(router), same, s.topK(), s.normTopK());
        };
        try (NDManager m = Pytorch.engine().newBaseManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            MoeTransformer model = new MoeTransformer(spec, m, 1, identity);
            assertThat(made).containsExactly(0, 1, 2);
            assertThat(model.parameters().all()).containsKey("model.layers.2.mlp.router.weight")
                    .doesNotContainKey("model.layers.0.mlp.experts.gate_proj");
            int[][] tokens = {{1, 2, 3, 4, 5}};
            assertThat(model.forward(tokens, 4, 0, m).logits().getShape().getShape()).containsExactly(4, 258);
        }
    }
}
