package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * moelab's load balancer. Per layer:
 * <ol>
 *   <li><b>forecast</b> ({@link LoadForecast}): with history, the one-step model of per-layer shares (an
 *       exponentially weighted mean over a grid of decays, or a seasonal difference or mean) with the least
 *       one-step-ahead error, and each expert's volatility; with fewer than {@link #MIN_HISTORY} earlier windows,
 *       the latest window;</li>
 *   <li><b>hedge</b>: plan on {@code mean + hedge * volatility}, so experts whose load swings get more
 *       replicas and lighter companions;</li>
 *   <li><b>apportion</b> ({@link Apportionment}): replica counts minimizing the largest per-replica load,
 *       exactly, in O(E log E), at most one replica per GPU of the expert's domain;</li>
 *   <li><b>pack</b> ({@link ReplicaPacker}): LPT by expert onto the least loaded GPUs, never two replicas of one
 *       expert on one GPU, then improving swaps between the most and least loaded GPUs;</li>
 *   <li><b>migrate</b> ({@link MigrationPlanner}), when a previous placement is given: GPUs relabeled to
 *       keep experts where they are (free), then layers kept whole or repaired (hierarchically, also with one
 *       exchange of groups between nodes) where that costs at most {@code tolerance} of GPU balancedness, both
 *       on the loads planned on and on the latest window.</li>
 * </ol>
 * In {@link PlacementMode#GLOBAL} mode every GPU can hold every expert; in {@link PlacementMode#HIERARCHICAL}
 * mode expert groups are first packed onto nodes (same packer, groups as items) and each node's experts are
 * apportioned and packed on its own GPUs.
 *
 * <p>Thread-safe, as {@link BalancerAlgorithm} promises: concurrent rebalances on one instance each plan with their
 * own scratch (the one kept from an earlier call is taken by one call at a time).
 */
public final class MoelabBalancer implements BalancerAlgorithm {
    /** Command-line name. */
    public static final String NAME = "moelab";

    /**
     * Settings.
     *
     * @param mode           global, hierarchical or auto (hierarchical when groups divide nodes); not null
     * @param hedge          volatility multiplier added to the forecast, 0 to {@value #MAX_HEDGE} (0: plan on the
     *                       forecast alone)
     * @param decay          forecast decay in [{@value #MIN_DECAY}, 1] (1: the latest window), or NaN to choose the
     *                       model from the history
     * @param historyWindows most earlier windows the forecast reads, 0 to {@value #MAX_COUNT}
     * @param swapRounds     most improving swaps per GPU packing, 0 to {@value #MAX_COUNT}
     * @param migrate        use the previous placement, when there is one, to move fewer experts
     * @param tolerance      GPU balancedness (0 to 1) the migration step may give up to keep layers in place (on
     *                       the loads planned on and on the latest window)
     * @param parallel       plan layers, forecast them and work out their migration options on all cores (the same
     *                       placement)
     */
    public record Settings(PlacementMode mode, double hedge, double decay, int historyWindows, int swapRounds,
                           boolean migrate, double tolerance, boolean parallel) {

        /** Largest {@code hedge}. */
        public static final double MAX_HEDGE = 100;
        /** Smallest fixed {@code decay}. */
        public static final double MIN_DECAY = 1e-6;
        /** Largest {@code historyWindows} and {@code swapRounds}. */
        public static final int MAX_COUNT = 1_000_000;

        /**
         * Checks the ranges a spec accepts, naming its option: a direct caller's infinite hedge or decay overflowed
         * the planning loads and the packer recursed until StackOverflowError, and a NaN or negative hedge, a decay
         * outside (0, 1] or a NaN tolerance planned without a word.
         *
         * @throws NullPointerException  if {@code mode} is null
         * @throws InvalidInputException naming {@code hedge}, {@code forecast}, {@code history}, {@code swaps} or
         *                               {@code tolerance} for a value out of range
         */
        public Settings {
            Objects.requireNonNull(mode, "mode");
            requireIn(hedge, 0, MAX_HEDGE, "hedge", "must be");
            if (!Double.isNaN(decay)) {
                requireIn(decay, MIN_DECAY, 1, "forecast", "the decay must be NaN (chosen from the data) or");
            }
            requireIn(historyWindows, 0, MAX_COUNT, "history", "must be");
            requireIn(swapRounds, 0, MAX_COUNT, "swaps", "must be");
            requireIn(tolerance, 0, 1, "tolerance", "must be");
        }

        private static void requireIn(double v, double min, double max, String field, String words) {
            if (!(v >= min && v <= max)) {
                throw new InvalidInputException(field, words + " in [" + Numbers.plain(min) + ", "
                        + Numbers.plain(max) + "], got " + Numbers.plain(v));
            }
        }

        /**
         * The defaults: auto mode, hedge 1, forecast model from the data over up to 32 windows, swaps until none
         * improves (at most 64), migration-aware with tolerance 0.002, single thread.
         */
        public static Settings defaults() {
            return new Settings(PlacementMode.AUTO, 1.0, Double.NaN, 32, 64, true, 0.002, false);
        }
    }

    private static final Set<String> OPTIONS = Set.of("hedge", "forecast", "history", "swaps", "migrate",
            "tolerance", "parallel");

    private final Settings settings;
    private final String name;
    /** A planner kept from an earlier rebalance, or null ({@link #takePlanner}). */
    private final AtomicReference<LayerPlanner> spare = new AtomicReference<>();
    /**
     * The windows' shares kept from the last forecast, or null while a rebalance has them: the next rebalance in
     * service reads all but one of the same windows ({@link LoadForecast.SharesCache}). Holds up to
     * {@code historyWindows + 1} rows of layers x experts values, and the windows they came from, between calls.
     */
    private final AtomicReference<LoadForecast.SharesCache> spareShares =
            new AtomicReference<>(new LoadForecast.SharesCache());

    /** The default balancer. */
    public MoelabBalancer() {
        this(Settings.defaults(), NAME);
    }

    /**
     * A balancer with the given settings and display name.
     *
     * @throws NullPointerException if an argument is null (null settings failed only at the first rebalance)
     */
    public MoelabBalancer(Settings settings, String name) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * The balancer a spec describes: {@code moelab[:MODE][:hedge=X][:forecast=auto|last|A][:history=H]
     * [:swaps=N][:migrate=on|off][:tolerance=T][:parallel=on]}.
     */
    static MoelabBalancer fromSpec(AlgorithmSpec spec) {
        spec.requireOptions(OPTIONS);
        Settings d = Settings.defaults();
        String forecast = spec.options().getOrDefault("forecast", "auto");
        double decay = switch (forecast) {
            case "auto" -> Double.NaN;
            case "last" -> 1.0;
            default -> spec.number("forecast", Double.NaN, Settings.MIN_DECAY, 1.0, "auto, last or ");
        };
        Settings s = new Settings(spec.mode(), spec.number("hedge", d.hedge(), 0, Settings.MAX_HEDGE), decay,
                spec.integer("history", d.historyWindows(), 0, Settings.MAX_COUNT),
                spec.integer("swaps", d.swapRounds(), 0, Settings.MAX_COUNT), spec.flag("migrate", d.migrate()),
                spec.number("tolerance", d.tolerance(), 0, 1), spec.flag("parallel", d.parallel()));
        return new MoelabBalancer(s, spec.text());
    }

    /** The settings in use. */
    public Settings settings() {
        return settings;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "moelab: forecast + hedging, exact apportionment, LPT + swaps without colocation, migration-aware";
    }

    @Override
    public Placement rebalance(BalancingRequest request) {
        LoadMatrix weight = request.weight();
        Topology topology = request.topology();
        int layers = weight.layers();
        int experts = weight.experts();
        boolean hierarchical = settings.mode().hierarchical(topology, experts);
        boolean migrate = request.previous() != null && settings.migrate();
        int[][] phy2log = new int[layers][];
        if (!migrate && !settings.parallel() && !forecasts(request)) {
            // Planned on the latest window as it is: two reused rows (a layer and the one planned with it) instead
            // of a copy of the whole matrix.
            LayerPlanner planner = takePlanner(topology, experts, hierarchical);
            double[][] rows = planner.rows();
            planLayers(planner, 0, layers, l -> {
                weight.copyLayer(l, rows[l & 1]);
                return rows[l & 1];
            }, phy2log);
            spare.set(planner);
            return Placement.ofOwned(topology, experts, phy2log);
        }
        double[][] plan = planningLoads(request);
        LayerWorkers<LayerPlanner> workers = new LayerWorkers<>(settings.parallel(),
                () -> takePlanner(topology, experts, hierarchical));
        workers.forEach((layers + 1) / 2, (planner, pair) ->
                planLayers(planner, 2 * pair, Math.min(layers, 2 * pair + 2), l -> plan[l], phy2log));
        LayerPlanner kept = workers.kept();
        if (kept != null) {
            spare.set(kept);
        }
        if (migrate) {
            new MigrationPlanner(topology, experts, hierarchical,
                    () -> new LayerPlanner(topology, experts, hierarchical, settings.swapRounds()), settings.parallel())
                    .reconcile(request.previous(), phy2log, plan, forecasts(request) ? weight.toArray() : plan,
                            settings.tolerance());
        }
        return Placement.ofOwned(topology, experts, phy2log);
    }

    /**
     * The spare planner if it fits the problem, else a new one. Its scratch (a few KB of arrays, grown on first use)
     * outlives the rebalance: planning 26 x 64 allocated and zeroed it anew every time. Taken, not shared, so
     * concurrent rebalances each get their own.
     */
    private LayerPlanner takePlanner(Topology topology, int experts, boolean hierarchical) {
        LayerPlanner planner = spare.getAndSet(null);
        return planner != null && planner.fits(topology, experts, hierarchical) ? planner
                : new LayerPlanner(topology, experts, hierarchical, settings.swapRounds());
    }

    /**
     * Plans layers {@code [from, to)} into {@code phy2log}, two at a time ({@link LayerPlanner#planTwo}); layer
     * {@code l}'s planning loads are {@code loads.apply(l)}, read before the next pair's are asked for.
     */
    private static void planLayers(LayerPlanner planner, int from, int to, IntFunction<double[]> loads,
                                   int[][] phy2log) {
        int replicas = planner.replicas();
        int l = from;
        for (; l + 1 < to; l += 2) {
            phy2log[l] = new int[replicas];
            phy2log[l + 1] = new int[replicas];
            planner.planTwo(loads.apply(l), phy2log[l], loads.apply(l + 1), phy2log[l + 1]);
        }
        if (l < to) {
            phy2log[l] = planner.plan(loads.apply(l));
        }
    }

    /**
     * Earlier windows needed before forecasting and hedging: with fewer, every model fits the few one-step errors
     * about equally and the volatility behind the hedge rests on one or two of them.
     */
    static final int MIN_HISTORY = 4;

    /** Whether the request has enough history to plan on a forecast rather than the latest window. */
    private boolean forecasts(BalancingRequest request) {
        return Math.min(request.history().size(), settings.historyWindows()) >= MIN_HISTORY;
    }

    /** {@code [layer][expert]}: the load each layer is planned on (forecast plus hedge, or the latest window). */
    double[][] planningLoads(BalancingRequest request) {
        if (!forecasts(request)) {
            return request.weight().toArray();
        }
        // Taken, not shared: a concurrent rebalance finds none and works every window's shares out itself.
        LoadForecast.SharesCache cache = spareShares.getAndSet(null);
        if (cache == null) {
            cache = new LoadForecast.SharesCache();
        }
        LoadForecast forecast = LoadForecast.of(request.weight(), request.history(), settings.historyWindows(),
                settings.decay(), cache, settings.parallel());
        spareShares.set(cache);
        double[][] mean = forecast.mean();
        if (settings.hedge() > 0) {
            double[][] volatility = forecast.volatility();
            for (int l = 0; l < mean.length; l++) {
                for (int e = 0; e < mean[l].length; e++) {
                    mean[l][e] += settings.hedge() * volatility[l][e];
                }
            }
        }
        return mean;
    }
}
