package io.moelab.cli.support;

import io.moelab.eplb.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@link DirectoryLock} of an output directory that a command may have to make: locked before the work when it
 * exists, else once it is made. {@code evolve} makes its {@code --out} once the run's inputs are read; {@code sim},
 * {@code sim sweep} and {@code eplb report} write their files together at the end ({@link AtomicFiles#together}),
 * each run's group renamed into place together, but the renames of two processes interleave, so two runs on one
 * directory at the same time could leave one's summary beside the other's plots; this lock makes the second run
 * refuse.
 *
 * <p>A directory that exists is locked by {@link #start}, before the work, so that a run on a directory in use is
 * refused before it spends minutes. One that does not exist yet is locked by {@link #ensureLocked} once it is made:
 * for the files written together, the last step inside {@code together}, by when {@link AtomicFiles} has made it for
 * the staged files, and removes it again if the run fails or is interrupted, so a run that fails or is stopped
 * before that leaves no directory behind. Either way the lock is held until {@link #close}, after the files are in
 * place.
 */
public final class OutputLock implements AutoCloseable {
    private final String option;
    private final Path dir;
    private DirectoryLock lock;

    private OutputLock(String option, Path dir) {
        this.option = option;
        this.dir = dir;
    }

    /**
     * Locks {@code dir} now if it is a directory, else notes it for {@link #ensureLocked}.
     *
     * @param option the directory's option, for the message ({@code --out})
     * @throws io.moelab.eplb.InvalidInputException {@code OPTION DIR: another moelab run is using it (pid N)}
     * @throws IOException                          if the lock file cannot be written
     */
    public static OutputLock start(String option, Path dir) throws IOException {
        OutputLock output = new OutputLock(option, dir);
        if (Files.isDirectory(dir)) {
            output.lock = DirectoryLock.acquire(option, dir);
        }
        return output;
    }

    /**
     * Locks the directory, making it if it is missing, unless {@link #start} or an earlier call did. For files
     * written together, call it last inside {@code together}, after the files are written (and so staged in the
     * directory), so that a refusal puts none of them in place.
     *
     * @throws io.moelab.eplb.InvalidInputException {@code OPTION DIR: another moelab run is using it (pid N)}: another
     *                                              run made and locked the directory while this one worked
     * @throws IOException                          if the directory or the lock file cannot be made
     */
    public void ensureLocked() throws IOException {
        if (lock == null) {
            Files.createDirectories(dir); // made already for the staged files; only a run that staged none needs it
            lock = DirectoryLock.acquire(option, dir);
        }
    }

    /** Releases the lock and deletes its file, if it was taken; does nothing when closed already. */
    @Override
    public void close() throws IOException {
        if (lock != null) {
            lock.close();
        }
    }
}
