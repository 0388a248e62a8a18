package io.moelab.eplb.algorithm;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Numbers;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A balancer as named on the command line: {@code NAME[:MODE][:KEY=VALUE]...}, for example {@code moelab},
 * {@code snake:global} or {@code moelab:global:hedge=0}. The text is also the balancer's display name, so
 * variants compare side by side in reports.
 *
 * @param name    algorithm name
 * @param mode    placement mode, {@link PlacementMode#AUTO} unless given
 * @param options key to value, in the order given
 * @param text    the spec as written (normalized to lower case)
 */
public record AlgorithmSpec(String name, PlacementMode mode, Map<String, String> options, String text) {

    /** Copies the options. */
    public AlgorithmSpec {
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * Parses {@code NAME[:MODE][:KEY=VALUE]...}.
     *
     * @throws InvalidInputException naming {@code algorithm} for an empty name, a repeated option or a part
     *                               that is neither a mode nor {@code KEY=VALUE}
     */
    public static AlgorithmSpec parse(String text) {
        String normalized = text.strip().toLowerCase(Locale.ROOT);
        String[] parts = normalized.split(":", -1);
        if (parts[0].isEmpty()) {
            throw new InvalidInputException("algorithm", "empty algorithm name in '" + text + "'");
        }
        PlacementMode mode = null;
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            if (part.isEmpty()) {
                // "moelab:" and "moelab::global" were read as a mode named '' ("unknown mode ''", or "two modes").
                throw new InvalidInputException("algorithm", "empty part after ':' in '" + text + "'");
            }
            if (eq < 0) {
                if (mode != null) {
                    throw new InvalidInputException("algorithm", "two modes in '" + text + "'");
                }
                try {
                    mode = PlacementMode.parse(part);
                } catch (InvalidInputException e) {
                    // The spec is at fault, not a --mode option: "mode: unknown mode" pointed a command line at
                    // the wrong option.
                    throw e.as("algorithm");
                }
            } else if (eq == 0 || eq == part.length() - 1) {
                throw new InvalidInputException("algorithm", "malformed option '" + part + "' in '" + text
                        + "' (expected KEY=VALUE)");
            } else if (options.put(part.substring(0, eq), part.substring(eq + 1)) != null) {
                throw new InvalidInputException("algorithm", "option '" + part.substring(0, eq) + "' given twice in '"
                        + text + "'");
            }
        }
        return new AlgorithmSpec(parts[0], mode == null ? PlacementMode.AUTO : mode, options, normalized);
    }

    /**
     * Whether the spec writes its mode out ({@code moelab:auto} does, {@code moelab} does not): only an unwritten
     * mode is a command's {@code --mode} to fill in.
     */
    public boolean modeWritten() {
        return Arrays.stream(text.split(":")).skip(1).anyMatch(part -> !part.contains("="));
    }

    /** This spec with {@code mode} where none was written. */
    public AlgorithmSpec withDefaultMode(PlacementMode defaultMode) {
        if (modeWritten() || defaultMode == PlacementMode.AUTO) {
            return this;
        }
        String[] parts = text.split(":", 2);
        String rebuilt = parts[0] + ":" + defaultMode.cliName() + (parts.length > 1 ? ":" + parts[1] : "");
        return new AlgorithmSpec(name, defaultMode, options, rebuilt);
    }

    /** This spec with an option added, unless the spec already sets it. */
    public AlgorithmSpec withDefaultOption(String key, String value) {
        if (options.containsKey(key)) {
            return this;
        }
        Map<String, String> more = new LinkedHashMap<>(options);
        more.put(key, value);
        return new AlgorithmSpec(name, mode, more, text + ":" + key + "=" + value);
    }

    /**
     * Throws unless every option is one of {@code known}.
     *
     * @throws InvalidInputException naming {@code algorithm}
     */
    public void requireOptions(Set<String> known) {
        for (String key : options.keySet()) {
            if (!known.contains(key)) {
                throw new InvalidInputException("algorithm", "unknown option '" + key + "' for " + name
                        + (known.isEmpty() ? " (it takes none)" : " (known: " + String.join(", ", new TreeSet<>(known))
                        + ")"));
            }
        }
    }

    /**
     * A numeric option in {@code [min, max]}, or {@code fallback} when absent.
     *
     * @throws InvalidInputException naming {@code algorithm} for a value that is not a number in range
     */
    public double number(String key, double fallback, double min, double max) {
        return number(key, fallback, min, max, "");
    }

    /**
     * {@link #number(String, double, double, double)} for an option that also takes words, which the caller has
     * handled: {@code words} (such as {@code "auto, last or "}) leads the error's list of what the option takes.
     */
    public double number(String key, double fallback, double min, double max, String words) {
        String value = options.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            double v = Double.parseDouble(value);
            if (!(v >= min && v <= max)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw invalid(key, value, words + "a number in [" + Numbers.plain(min) + ", " + Numbers.plain(max) + "]");
        }
    }

    /**
     * A whole-number option in {@code [min, max]}, or {@code fallback} when absent: {@code swaps=1.5} is refused, not
     * cut to 1.
     *
     * @throws InvalidInputException naming {@code algorithm} for a value that is not a whole number in range
     */
    public int integer(String key, int fallback, int min, int max) {
        String value = options.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(value);
            if (v < min || v > max) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw invalid(key, value, "a whole number in [" + min + ", " + max + "]");
        }
    }

    private InvalidInputException invalid(String key, String value, String what) {
        return new InvalidInputException("algorithm", "option " + key + "=" + value + " of " + name + " must be "
                + what);
    }

    /**
     * A yes/no option ({@code on/off}, {@code true/false}, {@code 1/0}), or {@code fallback} when absent.
     *
     * @throws InvalidInputException naming {@code algorithm}
     */
    public boolean flag(String key, boolean fallback) {
        String value = options.get(key);
        if (value == null) {
            return fallback;
        }
        return switch (value) {
            case "on", "true", "1", "yes" -> true;
            case "off", "false", "0", "no" -> false;
            default -> throw invalid(key, value, "on or off");
        };
    }

    /**
     * A word option from {@code allowed}, or {@code fallback} when absent.
     *
     * @throws InvalidInputException naming {@code algorithm}
     */
    public String word(String key, String fallback, Set<String> allowed) {
        String value = options.getOrDefault(key, fallback);
        if (!allowed.contains(value)) {
            throw invalid(key, value, "one of " + String.join(", ", new TreeSet<>(allowed)));
        }
        return value;
    }

    @Override
    public String toString() {
        return text;
    }
}
