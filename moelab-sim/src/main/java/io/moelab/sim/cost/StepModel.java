package io.moelab.sim.cost;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.Arrays;

/**
 * The time of one serving step of an expert-parallel MoE deployment, for a placement and the step's routed
 * token counts. Every formula is in docs/SIM.md; in short, per MoE layer:
 * <ul>
 *   <li>tokens originate evenly on all GPUs (data-parallel attention); an expert's routed tokens are split
 *       evenly over its replicas, or (node-local routing) tokens from a node go to the expert's replicas on
 *       that node when it has any;</li>
 *   <li>compute of GPU g: {@code max(x_g * 6HF / F_achievable, (a_g * 3HF * b + 4 H x_g) / HBM)} for the
 *       {@code x_g} routed tokens it serves on its {@code a_g} slots that get any: a roofline of expert FLOPs
 *       against weights and activations read;</li>
 *   <li>dispatch: each GPU sends its tokens' activations ({@code H} values) to the GPUs holding their experts
 *       and receives the tokens it serves; time = the larger of send and receive bytes over each link (NVLink
 *       inside a node, the network across nodes) plus that link's latency; combine sends the results back the
 *       same way;</li>
 *   <li>each phase ends when its slowest GPU does: layer time = max dispatch + max compute + max combine +
 *       the non-expert compute every GPU does alike for its own tokens.</li>
 * </ul>
 * A step is the sum over layers. A {@link Transfer} in flight shares the links with the all-to-all (see
 * {@link #step(Placement, LoadMatrix, Transfer)}). Instances hold scratch arrays; not thread-safe.
 */
public final class StepModel {

    /** How an expert's tokens are split over its replicas. */
    public enum Routing {
        /** Evenly over all replicas. */
        EVEN,
        /** Tokens from a node to the expert's replicas on that node when there are any, else evenly. */
        NODE_LOCAL
    }

    /**
     * Modeling choices.
     *
     * @param routing       how tokens are split over replicas
     * @param dispatchBytes bytes per activation value sent in dispatch (2: bf16; 1: FP8 as DeepSeek-V3 does)
     * @param combineBytes  bytes per activation value sent back in combine
     */
    public record Options(Routing routing, int dispatchBytes, int combineBytes) {
        /** Even routing, bf16 both ways. */
        public static Options defaults() {
            return new Options(Routing.EVEN, 2, 2);
        }
    }

    /**
     * One step's cost.
     *
     * @param seconds       wall-clock time of the step
     * @param tokens        tokens served (routed tokens / top-k, averaged over layers)
     * @param computeBusy   expert + non-expert compute time of the average GPU, summed over layers
     * @param balancedness  GPU balancedness of routed tokens: Σ_l mean_g x / Σ_l max_g x
     * @param dispatch      time in dispatch, summed over layers
     * @param compute       time of the slowest GPU's expert compute, summed over layers
     * @param combine       time in combine, summed over layers
     */
    public record StepCost(double seconds, double tokens, double computeBusy, double balancedness, double dispatch,
                           double compute, double combine) {
        /** Fraction of the step the average GPU spends computing. */
        public double utilization() {
            return seconds > 0 ? computeBusy / seconds : 0;
        }
    }

    private final ModelSpec model;
    private final ClusterSpec cluster;
    private final Options options;
    private final int gpus;
    private final int nodes;
    private final int gpusPerNode;
    private final double[] served;      // x_g
    private final double[] ownFlow;     // per GPU: tokens from its own node that it serves
    private final int[] activeSlots;
    private final double[] perReplica;
    /** Per expert: its replicas on the node being counted (node-local; zero between nodes). */
    private final int[] onNode;
    /** Per slot: its expert's replicas on the slot's node (node-local; sized for the placement's slots). */
    private int[] slotOnNode;
    /** Per expert: the nodes holding a replica of it (node-local routing). */
    private final int[] nodesWith;
    private final double[] flowTotal;   // per origin node: all its routed tokens
    private final double[] flowLocal;   // per origin node: those served on the node
    /** Per origin node: the tokens it sends to other nodes, exactly 0 when it keeps them all. */
    private final double[] flowOut;
    /** Per node: its GPUs that serve any of the node's own tokens. */
    private final int[] servingOn;
    private final double[] nvlinkBytes; // per GPU: the all-to-all phase's bytes on NVLink, for a transfer sharing it
    private final double[] networkBytes;

    /** A step model of {@code model} served by {@code cluster}. */
    public StepModel(ModelSpec model, ClusterSpec cluster, Options options) {
        this.model = model;
        this.cluster = cluster;
        this.options = options;
        this.gpus = cluster.gpus();
        this.nodes = cluster.nodes();
        this.gpusPerNode = cluster.gpusPerNode();
        served = new double[gpus];
        boolean nodeLocal = options.routing() == Routing.NODE_LOCAL;
        ownFlow = new double[gpus];
        activeSlots = new int[gpus];
        perReplica = new double[model.experts()];
        // Per expert and per slot, not per (expert, node): 65,536 experts on 65,536 nodes made 2^32 cells.
        onNode = nodeLocal ? new int[model.experts()] : null;
        slotOnNode = nodeLocal ? new int[0] : null;
        nodesWith = nodeLocal ? new int[model.experts()] : null;
        flowTotal = new double[nodes];
        flowLocal = new double[nodes];
        flowOut = new double[nodes];
        servingOn = new int[nodes];
        nvlinkBytes = new double[gpus];
        networkBytes = new double[gpus];
    }

    /** The placement topology this model's cluster implies for {@code replicas} slots per layer. */
    public Topology topology(int replicas) {
        return new Topology(replicas, model.groups(), nodes, gpus);
    }

    /**
     * The cost of one step.
     *
     * @param load routed token counts of the step, {@code [MoE layer][expert]}
     * @throws InvalidInputException if the load's shape is not the placement's
     * @throws IllegalArgumentException if the placement is for another number of GPUs or nodes
     */
    public StepCost step(Placement placement, LoadMatrix load) {
        return step(placement, load, null);
    }

    /**
     * The cost of one step while {@code transfer} moves weights in the background, which it advances: per layer
     * the dispatch, the experts' compute, the combine and the non-expert work follow each other, the transfer has
     * the links to itself in the two compute phases and shares each GPU's links with the all-to-all in the other
     * two (see {@link Transfer}). Without a transfer (null) or once it has moved every byte, the same as
     * {@link #step(Placement, LoadMatrix)}, digit for digit.
     *
     * @param transfer the transfer in flight, or null
     * @throws InvalidInputException if the load's shape is not the placement's
     * @throws IllegalArgumentException if the placement is for another number of GPUs or nodes
     */
    public StepCost step(Placement placement, LoadMatrix load, Transfer transfer) {
        if (placement.topology().gpus() != gpus || placement.topology().nodes() != nodes) {
            throw new IllegalArgumentException("placement is for " + placement.topology() + ", cluster has " + gpus
                    + " GPUs on " + nodes + " nodes");
        }
        if (transfer != null && transfer.gpus() != gpus) {
            throw new IllegalArgumentException("transfer is for " + transfer.gpus() + " GPUs, cluster has " + gpus);
        }
        load.requireShape(placement.layers(), placement.experts(), "load");
        int layers = load.layers();
        int experts = load.experts();
        int slotsPerGpu = placement.topology().slotsPerGpu();
        double h = model.hidden();
        double flopsPerToken = model.expertFlopsPerToken();
        double expertBytes = model.expertBytes();
        double flops = cluster.flopsPerSecond();
        double hbm = cluster.hbmBytesPerSecond();
        double dispatchPerToken = h * options.dispatchBytes();
        double combinePerToken = h * options.combineBytes();
        double seconds = 0;
        double busy = 0;
        double dispatchTotal = 0;
        double computeTotal = 0;
        double combineTotal = 0;
        double tokensSum = 0;
        double meanSum = 0;
        double maxSum = 0;
        for (int l = 0; l < layers; l++) {
            double routed = route(placement, load, l, experts, slotsPerGpu);
            double layerTokens = routed / model.topK();
            tokensSum += layerTokens;
            // Compute: a roofline per GPU over the routed tokens it serves.
            double computeMax = 0;
            double computeSum = 0;
            double servedMax = 0;
            for (int g = 0; g < gpus; g++) {
                double x = served[g];
                double bytes = activeSlots[g] * expertBytes + 4 * h * x; // weights, activations in and out (bf16)
                double t = Math.max(x * flopsPerToken / flops, bytes / hbm);
                computeMax = Math.max(computeMax, t);
                computeSum += t;
                servedMax = Math.max(servedMax, x);
            }
            meanSum += routed / gpus;
            maxSum += servedMax;
            // Non-expert work (attention, shared experts) on each GPU's own tokens: the same everywhere.
            double uniform = layerTokens / gpus * model.uniformFlopsPerToken() / flops;
            double dispatch = allToAll(dispatchPerToken, transfer);
            double combine;
            if (transfer == null) {
                combine = allToAll(combinePerToken, null);
            } else {
                // In the order they run: the combine meets what the dispatch and the compute left of the transfer.
                transfer.communicate(dispatch, nvlinkBytes, networkBytes);
                transfer.compute(computeMax);
                combine = allToAll(combinePerToken, transfer);
                transfer.communicate(combine, nvlinkBytes, networkBytes);
                transfer.compute(uniform);
            }
            seconds += dispatch + computeMax + combine + uniform;
            busy += computeSum / gpus + uniform;
            dispatchTotal += dispatch;
            computeTotal += computeMax;
            combineTotal += combine;
        }
        if (!Double.isFinite(seconds) || !Double.isFinite(busy)) {
            // Each value passed its own range check, but rates near zero or sizes near the largest double make a
            // time no double holds; reported here rather than as NaN rates or a plot library's failure.
            String part = !Double.isFinite(dispatchTotal) || !Double.isFinite(combineTotal)
                    ? "the all-to-all (cluster nvlink_gbps, network_gbps, latencies; model hidden)"
                    : !Double.isFinite(computeTotal) ? "the experts' compute (cluster peak_tflops, hbm_tbps; model "
                    + "expert sizes)" : "the non-expert work (model dense_flops_per_token; cluster peak_tflops)";
            throw new InvalidInputException("cluster", "a step's time is not finite: " + part + " has values "
                    + "too extreme to compute (cluster " + cluster.name() + ", model " + model.name() + ")");
        }
        double balancedness = maxSum > 0 ? Math.min(1, meanSum / maxSum) : 1;
        return new StepCost(seconds, tokensSum / layers, busy, balancedness, dispatchTotal, computeTotal,
                combineTotal);
    }

    /**
     * Fills {@link #served}, {@link #activeSlots}, {@link #ownFlow}, {@link #flowTotal}, {@link #flowLocal},
     * {@link #flowOut} and {@link #servingOn} for one layer.
     *
     * @return routed tokens of the layer
     */
    private double route(Placement placement, LoadMatrix load, int l, int experts, int slotsPerGpu) {
        Arrays.fill(served, 0);
        Arrays.fill(activeSlots, 0);
        double routed = 0;
        for (int e = 0; e < experts; e++) {
            routed += load.load(l, e);
            perReplica[e] = load.load(l, e) / placement.replicaCount(l, e);
        }
        int replicas = placement.replicas();
        if (options.routing() == Routing.EVEN) {
            for (int s = 0; s < replicas; s++) {
                int e = placement.expertAt(l, s);
                int g = s / slotsPerGpu;
                served[g] += perReplica[e];
                activeSlots[g] += perReplica[e] > 0 ? 1 : 0;
            }
            // Tokens originate evenly, so each node sends every GPU 1/N of its tokens: flow[n][g] = x_g / N for
            // every n. The sums run in the order a scan of that table did, so every digit stays as it was.
            double total = 0;
            Arrays.fill(flowLocal, 0);
            for (int g = 0; g < gpus; g++) {
                double share = served[g] / nodes;
                ownFlow[g] = share;
                total += share;
                flowLocal[g / gpusPerNode] += share;
            }
            Arrays.fill(flowTotal, total);
            Arrays.fill(servingOn, 0);
            for (int g = 0; g < gpus; g++) {
                servingOn[g / gpusPerNode] += ownFlow[g] > 0 ? 1 : 0;
            }
            for (int n = 0; n < nodes; n++) {
                flowOut[n] = total - flowLocal[n];
            }
            return routed;
        }
        // Node-local: node n's share of expert e (load / N) goes to e's replicas on n, evenly, when n holds any, else
        // evenly to all of e's replicas. Per slot of e on GPU g (node m) that is share / (replicas of e on m) from its
        // own node and share / (replicas of e) from each node holding none, so a pass over the slots gives every sum
        // the all-to-all needs: O(R + E) a layer, where summing an [origin node][GPU] table was O(R N + N M) (a
        // DeepSeek-V3 step on 144 x 8 GPUs: 0.5 s).
        int slotsPerNode = replicas / nodes;
        Arrays.fill(ownFlow, 0);
        Arrays.fill(flowLocal, 0);
        double total = 0;
        int loaded = 0;
        for (int e = 0; e < experts; e++) {
            nodesWith[e] = 0;
            total += load.load(l, e) / nodes;
            loaded += load.load(l, e) > 0 ? 1 : 0;
        }
        if (slotOnNode.length < replicas) {
            slotOnNode = new int[replicas];
        }
        // A node's slots are contiguous: count each expert's replicas there, node by node, clearing the counts of the
        // node's experts before the next (O(R) a layer, in the slot order the sums always ran in).
        for (int node = 0; node < nodes; node++) {
            int from = node * slotsPerNode;
            int to = from + slotsPerNode;
            int loadedHere = 0;
            for (int s = from; s < to; s++) {
                int e = placement.expertAt(l, s);
                if (onNode[e]++ == 0) {
                    nodesWith[e]++;
                    flowLocal[node] += load.load(l, e) / nodes;
                    loadedHere += load.load(l, e) > 0 ? 1 : 0;
                }
            }
            // A node holding every expert that has tokens keeps all its tokens: the difference of its two sums, added
            // in different orders, could leave 1e-13 tokens "sent" across nodes, and the step paid network latency.
            flowOut[node] = loadedHere == loaded ? 0 : total - flowLocal[node];
            for (int s = from; s < to; s++) {
                slotOnNode[s] = onNode[placement.expertAt(l, s)];
            }
            for (int s = from; s < to; s++) {
                onNode[placement.expertAt(l, s)] = 0;
            }
        }
        for (int s = 0; s < replicas; s++) {
            int e = placement.expertAt(l, s);
            int g = s / slotsPerGpu;
            double w = load.load(l, e);
            double share = w / nodes;
            double own = share / slotOnNode[s];
            double remote = (nodes - nodesWith[e]) * (share / placement.replicaCount(l, e));
            ownFlow[g] += own;
            served[g] += own + remote;
            activeSlots[g] += w > 0 ? 1 : 0;
        }
        Arrays.fill(flowTotal, total);
        Arrays.fill(servingOn, 0);
        for (int g = 0; g < gpus; g++) {
            servingOn[g / gpusPerNode] += ownFlow[g] > 0 ? 1 : 0;
        }
        return routed;
    }

    /**
     * Layer {@code l}'s routed tokens as the all-to-all sees them, for tests: per GPU the tokens it serves and those
     * of them from its own node, per node the tokens it sends and those it keeps.
     */
    double[][] routeLayer(Placement placement, LoadMatrix load, int l) {
        route(placement, load, l, load.experts(), placement.topology().slotsPerGpu());
        return new double[][] {served.clone(), ownFlow.clone(), flowTotal.clone(), flowLocal.clone()};
    }

    /**
     * The time of one all-to-all phase: the slowest GPU's larger of send and receive bytes per link, plus the
     * latency of each link it uses. Tokens from node n to GPU d come equally from node n's GPUs. With a transfer,
     * each link's time grows by what the transfer takes of it, and the bytes per GPU and link are kept for it.
     *
     * @param bytesPerToken activation bytes per routed token
     * @param transfer      the transfer sharing the links, or null
     */
    private double allToAll(double bytesPerToken, Transfer transfer) {
        double nvlink = cluster.nvlinkBytesPerSecond();
        double network = cluster.networkBytesPerSecond();
        double nvlinkLatency = cluster.nvlinkLatencyUs() * 1e-6;
        double networkLatency = cluster.networkLatencyUs() * 1e-6;
        double worst = 0;
        for (int g = 0; g < gpus; g++) {
            int node = g / gpusPerNode;
            double own = ownFlow[g];
            // As the serving GPU: tokens from the other GPUs of its node, and from other nodes.
            double servedIntra = own * (gpusPerNode - 1) / gpusPerNode;
            double servedInter = served[g] - own;
            // As an origin GPU: its 1/gpusPerNode share of its node's flow to every other GPU.
            // Exactly 0 when no other GPU of the node serves its tokens (rounding left a residue, which paid NVLink
            // latency on a node of one GPU), or when the node keeps every token.
            double originIntra = servingOn[node] == (own > 0 ? 1 : 0) ? 0 : (flowLocal[node] - own) / gpusPerNode;
            double originInter = flowOut[node] / gpusPerNode;
            double intra = Math.max(servedIntra, originIntra) * bytesPerToken;
            double inter = Math.max(servedInter, originInter) * bytesPerToken;
            // Send and receive swap roles between dispatch and combine; the larger of the two sets the time.
            double t;
            if (transfer == null) {
                t = Math.max(intra > 0 ? intra / nvlink + nvlinkLatency : 0,
                        inter > 0 ? inter / network + networkLatency : 0);
            } else {
                nvlinkBytes[g] = intra;
                networkBytes[g] = inter;
                t = Math.max(intra > 0 ? intra / nvlink + transfer.sharedSeconds(true, g, intra) + nvlinkLatency : 0,
                        inter > 0 ? inter / network + transfer.sharedSeconds(false, g, inter) + networkLatency : 0);
            }
            worst = Math.max(worst, t);
        }
        return worst;
    }

    /** The model simulated. */
    public ModelSpec model() {
        return model;
    }

    /** The cluster simulated. */
    public ClusterSpec cluster() {
        return cluster;
    }
}
