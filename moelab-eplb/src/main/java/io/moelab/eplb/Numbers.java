package io.moelab.eplb;

import java.math.BigDecimal;

/**
 * Numbers for messages, written as people write them: {@code plain(-4.0)} is {@code "-4"}, {@code plain(0.25)}
 * {@code "0.25"}, where Java's {@code "" + v} gives {@code "-4.0"} for a load that the input file wrote as {@code -4}.
 */
public final class Numbers {
    private Numbers() {
    }

    /**
     * {@code v} without a trailing {@code .0} and, from 1e-6 to below 1e15, without an exponent (its shortest decimal
     * that reads back as {@code v}); outside that range, and for NaN and infinities, Java's own form
     * ({@code 1.0E300}), which a plain form would spell out in hundreds of digits.
     */
    public static String plain(double v) {
        double a = Math.abs(v);
        if (Double.isNaN(v) || Double.isInfinite(v) || (a != 0 && (a < 1e-6 || a >= 1e15))) {
            return Double.toString(v);
        }
        if (v == 0) {
            return "0";
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
