package io.moelab.cli.sim;

import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.XYStyler;

/**
 * The x axis of a chart labelled at its data's x values instead of XChart's ticks. A logarithmic axis in XChart labels
 * only powers of ten, so a sweep of the rebalance interval at 50 and 100 showed "100" alone and left 50 to be guessed;
 * XChart's own ticks and grid stay (the scale's decades), their labels are hidden, and each swept value is labelled
 * under its point. A value whose label would overprint the one before it on the axis is left unlabelled.
 *
 * <p>Only XChart's public API is used (an annotation would have to extend a class of its internal package): the
 * chart is rendered to an image and the labels are drawn on that image, at the screen positions the chart reports
 * for their values.
 */
final class ValueLabels {
    /** A label drawn: its text and the screen x its centre is at. */
    record Label(String text, int x) {
    }

    /**
     * A chart rendered with its value labels.
     *
     * @param image  the chart and its labels
     * @param labels the labels drawn, left to right
     */
    record Rendered(BufferedImage image, List<Label> labels) {
        Rendered {
            labels = List.copyOf(labels);
        }
    }

    private ValueLabels() {
    }

    /**
     * Renders {@code chart} with its x axis labelled at {@code x} (whole numbers, as the sweep's intervals are) in
     * place of XChart's tick labels; a single value keeps XChart's own label, which is already that value.
     */
    static Rendered render(XYChart chart, double[] x) {
        double[] values = Arrays.stream(x).distinct().sorted().toArray();
        if (values.length <= 1) {
            return new Rendered(BitmapEncoder.getBufferedImage(chart), List.of());
        }
        XYStyler style = chart.getStyler();
        int plotBottom = plotBottom(chart);
        style.setXAxisTickLabelsColor(new Color(0, 0, 0, 0)); // drawn, still sizing the axis
        BufferedImage image = BitmapEncoder.getBufferedImage(chart);
        Graphics2D g = image.createGraphics();
        List<Label> drawn = new ArrayList<>();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(style.getAxisTickLabelsFont());
            g.setStroke(style.getAxisTickMarksStroke());
            FontMetrics metrics = g.getFontMetrics();
            int tick = style.getAxisTickMarkLength();
            int baseline = plotBottom + tick + style.getAxisTickPadding() + metrics.getAscent();
            int gap = metrics.charWidth(' ');
            int right = Integer.MIN_VALUE / 2;
            for (double v : values) {
                String text = Long.toString(Math.round(v));
                int at = (int) chart.getScreenXFromChart(v);
                int left = at - metrics.stringWidth(text) / 2;
                if (left < right + gap) {
                    continue;
                }
                g.setColor(style.getAxisTickMarksColor());
                g.drawLine(at, plotBottom, at, plotBottom + tick);
                g.setColor(style.getAxisTickLabelsColor());
                g.drawString(text, left, baseline);
                drawn.add(new Label(text, at));
                right = left + metrics.stringWidth(text);
            }
        } finally {
            g.dispose();
        }
        return new Rendered(image, drawn);
    }

    /**
     * The screen y of the plot area's bottom edge, where the x axis's ticks start. XChart reports screen positions of
     * values, not the plot's bounds, so a throw-away rendering with the y axis fixed to [0, 1] gives it: the values'
     * span is the plot content size's fraction of the plot's height, centred in it. The y range moves neither the
     * x axis nor the plot's bottom edge, and the chart's own range is put back.
     */
    private static int plotBottom(XYChart chart) {
        XYStyler style = chart.getStyler();
        Double min = style.getYAxisMin();
        Double max = style.getYAxisMax();
        try {
            style.setYAxisMin(0.0);
            style.setYAxisMax(1.0);
            BitmapEncoder.getBufferedImage(chart);
            double zero = chart.getScreenYFromChart(0);
            double content = zero - chart.getScreenYFromChart(1);
            double share = style.getPlotContentSize();
            return (int) (zero + content * (1 - share) / (2 * share));
        } finally {
            style.setYAxisMin(min);
            style.setYAxisMax(max);
        }
    }
}
