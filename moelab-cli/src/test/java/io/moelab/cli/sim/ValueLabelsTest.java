package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.cli.support.Plots;
import java.awt.Color;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;

class ValueLabelsTest {
    /**
     * A sweep at intervals 50 and 100 showed only "100" under its log-scale x axis (XChart labels the powers of ten);
     * every interval swept is labelled under its point.
     */
    @Test
    void everySweptIntervalIsLabelled() {
        List<ValueLabels.Label> two = render(new double[] {50, 100});
        assertThat(two).extracting(ValueLabels.Label::text).containsExactly("50", "100");
        assertThat(two.get(0).x()).isLessThan(two.get(1).x());
        // The default sweep's intervals, none missing, left to right.
        assertThat(render(new double[] {10, 25, 50, 100, 200, 400})).extracting(ValueLabels.Label::text)
                .containsExactly("10", "25", "50", "100", "200", "400");
    }

    /** On the log scale: 100 lies midway between 10 and 1000, whatever order the points come in. */
    @Test
    void labelsSitAtTheirPointsOnTheLogScale() {
        List<ValueLabels.Label> labels = render(new double[] {1000, 10, 100});
        assertThat(labels).extracting(ValueLabels.Label::text).containsExactly("10", "100", "1000");
        assertThat(labels.get(1).x()).isCloseTo((labels.get(0).x() + labels.get(2).x()) / 2, within(1));
    }

    /** A label that would overprint the one before it is left out rather than drawn over it. */
    @Test
    void aLabelThatWouldOverprintIsLeftOut() {
        assertThat(render(new double[] {100, 101, 1000})).extracting(ValueLabels.Label::text)
                .containsExactly("100", "1000");
    }

    /** One interval: XChart's own label, which is that interval, stays; nothing is drawn over it. */
    @Test
    void oneIntervalKeepsXChartsLabel() {
        XYChart chart = chart(new double[] {100});
        ValueLabels labels = ValueLabels.addTo(chart, new double[] {100});
        BitmapEncoder.getBufferedImage(chart);
        assertThat(labels.drawn()).isEmpty();
        assertThat(chart.getStyler().getXAxisTickLabelsColor()).isNotEqualTo(new Color(0, 0, 0, 0));
    }

    private static List<ValueLabels.Label> render(double[] x) {
        XYChart chart = chart(x);
        ValueLabels labels = ValueLabels.addTo(chart, x);
        BitmapEncoder.getBufferedImage(chart);
        return labels.drawn();
    }

    private static XYChart chart(double[] x) {
        Map<String, double[]> series = new LinkedHashMap<>();
        double[] y = new double[x.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = 1000 + 10 * i;
        }
        series.put("none", y);
        return Plots.lineChart("t", "rebalance every K steps (log scale)", "throughput (tokens/s)", x, series,
                new Plots.Axes(null, true, false));
    }
}
