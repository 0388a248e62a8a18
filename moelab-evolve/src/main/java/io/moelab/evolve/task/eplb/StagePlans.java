package io.moelab.evolve.task.eplb;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.List;

/**
 * The requests an EPLB stage plans, in order, each with the load its plan is scored on: one definition for the
 * harness, which has the candidate plan them, and for the evolve process, which reads those plans back and scores
 * them ({@link EplbResults}), and so must rebuild exactly the requests the candidate saw.
 */
final class StagePlans {
    /** Earlier windows given as history to a stage-2 request. */
    static final int HISTORY_WINDOWS = 4;

    private StagePlans() {
    }

    /**
     * One planning step.
     *
     * @param <X> what the step throws besides a candidate's failure
     */
    interface Step<X extends Exception> {
        /**
         * Plans {@code request}, whose plan is scored on {@code scoredOn}.
         *
         * @param group a stage-1 case's index, or a stage-2 workload's index
         * @param where names the request in messages
         * @return the plan (the previous placement of the group's next request)
         */
        Placement plan(int group, BalancingRequest request, LoadMatrix scoredOn, String where)
                throws X, CandidateFailure;
    }

    /** Stage 1: each small case twice, the second time with the first as history and its plan in service. */
    static <X extends Exception> void stageOne(List<EplbWorkloads.Case> cases, Step<X> step)
            throws X, CandidateFailure {
        for (int i = 0; i < cases.size(); i++) {
            EplbWorkloads.Case c = cases.get(i);
            String where = "case " + (i + 1) + " (" + c.name() + ")";
            Placement plan = step.plan(i, BalancingRequest.of(c.first(), c.topology()), c.first(), where);
            step.plan(i, new BalancingRequest(c.second(), List.of(c.first()), c.topology(), plan), c.second(),
                    where + ", second call with history and previous placement");
        }
    }

    /** Stage 2: every workload's window i, earlier windows as history and the last plan in service, on i + 1. */
    static <X extends Exception> void stageTwo(List<EplbWorkloads.Workload> workloads, Step<X> step)
            throws X, CandidateFailure {
        for (int w = 0; w < workloads.size(); w++) {
            EplbWorkloads.Workload workload = workloads.get(w);
            List<LoadMatrix> windows = workload.windows();
            Placement previous = null;
            for (int i = 0; i + 1 < windows.size(); i++) {
                BalancingRequest request = new BalancingRequest(windows.get(i),
                        windows.subList(Math.max(0, i - HISTORY_WINDOWS), i), workload.topology(), previous);
                previous = step.plan(w, request, windows.get(i + 1), "workload " + workload.key() + ", window " + i);
            }
        }
    }
}
