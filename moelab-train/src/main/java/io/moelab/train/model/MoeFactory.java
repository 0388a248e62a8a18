package io.moelab.train.model;

/**
 * Makes the MoE layer of each decoder block, creating its parameters. The place where other designs plug in
 * (clustered experts with shared bases and low-rank residuals, a hierarchical router): a factory that creates
 * other parameters and returns a {@link MoeLayer} over its own {@link Router} and {@link ExpertBank}.
 */
@FunctionalInterface
public interface MoeFactory {
    /**
     * Creates block {@code layer}'s MoE layer, its parameters created in {@code params}.
     *
     * @param layer       the block's index
     * @param prefix      the block's parameter-name prefix, {@code model.layers.N.}
     * @param spec        the architecture
     * @param params      where to create parameters (their names should start with {@code prefix + "mlp."})
     * @param residualStd the initial standard deviation of matrices that write into the residual stream
     */
    MoeLayer create(int layer, String prefix, ModelSpec spec, Parameters params, double residualStd);

    /**
     * The standard layer: a linear router ({@code mlp.gate.weight}) and independent SwiGLU experts, stacked
     * ({@code mlp.experts.gate_proj}, {@code up_proj}, {@code down_proj}; see {@link SwiGluExperts}).
     */
    MoeFactory STANDARD = (layer, prefix, spec, params, residualStd) -> {
        double std = MoeTransformer.INIT_STD;
        int d = spec.dModel();
        var router = params.normal(prefix + "mlp.gate.weight", std, spec.experts(), d);
        var gate = params.normal(prefix + "mlp.experts.gate_proj", std, spec.experts(), spec.expertDim(), d);
        var up = params.normal(prefix + "mlp.experts.up_proj", std, spec.experts(), spec.expertDim(), d);
        var down = params.normal(prefix + "mlp.experts.down_proj", residualStd, spec.experts(), d, spec.expertDim());
        return new MoeLayer(new LinearRouter(router), new SwiGluExperts(gate, up, down), spec.topK(),
                spec.normTopK());
    };
}
