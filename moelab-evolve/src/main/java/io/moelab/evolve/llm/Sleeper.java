package io.moelab.evolve.llm;

import java.time.Duration;

/** Waits between retries; tests inject one that records instead of sleeping. */
@FunctionalInterface
public interface Sleeper {

    /** Sleeps on the calling thread. */
    Sleeper SYSTEM = Thread::sleep;

    /**
     * Waits for {@code d}.
     *
     * @param d how long
     * @throws InterruptedException if the thread is interrupted while it waits
     */
    void sleep(Duration d) throws InterruptedException;
}
