package io.moelab.evolve.edit;

/** An edit that cannot be made at all, such as unbalanced EVOLVE-BLOCK markers or a rewrite that drops some. */
public final class EditException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with a message meant for people (and models) to read. */
    public EditException(String message) {
        super(message);
    }
}
