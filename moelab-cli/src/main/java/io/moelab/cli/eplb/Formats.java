package io.moelab.cli.eplb;

import java.util.Locale;

/** Number formatting shared by the eplb tables. */
final class Formats {
    private Formats() {
    }

    static String ratio(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static String millis(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : v >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    static String count(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
