package io.moelab.runtime;

/**
 * A checkpoint or model configuration that cannot be used: a truncated file, a header that lies, a missing
 * tensor, a shape that disagrees with {@code config.json}. The message is one line naming the file and, where
 * there is one, the tensor.
 */
public class ModelFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    /** The file (or directory) at fault. */
    private final String file;
    /** The tensor at fault, or null. */
    private final String tensor;

    /**
     * Reports a problem with a model file, or with one of its tensors.
     *
     * @param file    the file (or directory) at fault
     * @param tensor  the tensor at fault, or null
     * @param problem what is wrong, without the file or tensor name
     */
    public ModelFormatException(String file, String tensor, String problem) {
        super(file + (tensor == null ? "" : ": tensor " + tensor) + ": " + problem);
        this.file = file;
        this.tensor = tensor;
    }

    /** The file at fault. */
    public String file() {
        return file;
    }

    /** The tensor at fault, or null. */
    public String tensor() {
        return tensor;
    }
}
