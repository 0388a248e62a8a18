package io.moelab.cli.sim;

import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.style.XYStyler;

/**
 * The x axis of a chart labelled at its data's x values instead of XChart's ticks. A logarithmic axis in XChart labels
 * only powers of ten, so a sweep of the rebalance interval at 50 and 100 showed "100" alone and left 50 to be guessed;
 * XChart's own ticks and grid stay (the scale's decades), their labels are hidden, and each swept value is labelled
 * under its point. A value whose label would overprint the one before it on the axis is left unlabelled.
 */
final class ValueLabels extends Annotation {
    /** A label drawn: its text and the screen x its centre is at. */
    record Label(String text, int x) {
    }

    private final double[] values;
    private final XYStyler style;
    private final List<Label> drawn = new ArrayList<>();

    private ValueLabels(double[] values, XYStyler style) {
        super(false);
        this.values = values;
        this.style = style;
    }

    /**
     * Labels {@code chart}'s x axis at {@code x} (whole numbers, as the sweep's intervals are) in place of XChart's
     * tick labels; a single value keeps XChart's own label, which is already that value.
     *
     * @return the labels, which say after each rendering what they drew
     */
    static ValueLabels addTo(XYChart chart, double[] x) {
        double[] distinct = Arrays.stream(x).distinct().sorted().toArray();
        ValueLabels labels = new ValueLabels(distinct, chart.getStyler());
        if (distinct.length > 1) {
            chart.getStyler().setXAxisTickLabelsColor(new Color(0, 0, 0, 0)); // drawn, still sizing the axis
            chart.addAnnotation(labels);
        }
        return labels;
    }

    /** What the last rendering drew, left to right. */
    List<Label> drawn() {
        return List.copyOf(drawn);
    }

    @Override
    public void paint(Graphics2D g) {
        drawn.clear();
        Object hint = g.getRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(style.getAxisTickLabelsFont());
        FontMetrics metrics = g.getFontMetrics();
        int plotBottom = getYAxisScreenValueForMax();
        int tick = style.getAxisTickMarkLength();
        int baseline = plotBottom + tick + style.getAxisTickPadding() + metrics.getAscent();
        int gap = metrics.charWidth(' ');
        int right = Integer.MIN_VALUE / 2;
        for (double v : values) {
            String text = Long.toString(Math.round(v));
            int x = getXAxisScreenValue(v);
            int left = x - metrics.stringWidth(text) / 2;
            if (left < right + gap) {
                continue;
            }
            g.setColor(style.getAxisTickMarksColor());
            g.drawLine(x, plotBottom, x, plotBottom + tick);
            g.setColor(style.getAxisTickLabelsColor());
            g.drawString(text, left, baseline);
            drawn.add(new Label(text, x));
            right = left + metrics.stringWidth(text);
        }
        if (hint != null) {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, hint);
        }
    }
}
