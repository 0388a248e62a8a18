package io.moelab.eplb.io;

import java.io.Serial;
import java.nio.file.FileSystemException;

/**
 * An output cannot be written where it was asked for, for a reason of its path that the user fixes by naming
 * another: a directory stands there, a file stands where a parent directory goes, a parent cannot be created, access
 * is denied, or symbolic links loop. A command line reports it as bad input (exit code 2). Failures of the file
 * system itself while writing (disk full, I/O error, a read-only mount) are plain {@link FileSystemException}s or
 * I/O errors instead.
 *
 * <p>Its message is {@code FILE: cannot write: PROBLEM}, {@code FILE} being the path as given.
 */
public final class OutputPathException extends FileSystemException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * Reports that {@code file} cannot be written for the given reason.
     *
     * @param file    the output, as given
     * @param problem what is wrong with it, e.g. {@code "is a directory"}
     */
    public OutputPathException(String file, String problem) {
        super(file, null, "cannot write: " + problem);
    }
}
