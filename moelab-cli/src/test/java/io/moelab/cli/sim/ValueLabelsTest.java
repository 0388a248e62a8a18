package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.cli.support.Plots;
import java.awt.Color;
import java.awt.image.BufferedImage;
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
        ValueLabels.Rendered rendered = ValueLabels.render(chart, new double[] {100});
        assertThat(rendered.labels()).isEmpty();
        assertThat(chart.getStyler().getXAxisTickLabelsColor()).isNotEqualTo(new Color(0, 0, 0, 0));
        assertSameImage(rendered.image(), BitmapEncoder.getBufferedImage(chart(new double[] {100})));
    }

    /**
     * A value that XChart labels itself (a power of ten) is labelled where XChart puts its own label: the same text
     * under the same point, at the height of XChart's tick labels (within the few pixels by which the two anchor the
     * text differently), so the labels sit on the axis, not on the plot or under the axis title.
     */
    @Test
    void aLabelSitsWhereXChartPutsItsOwn() {
        double[] x = {10, 25, 50, 100, 200, 400};
        ValueLabels.Rendered rendered = ValueLabels.render(chart(x), x);
        XYChart own = chart(x);
        own.getStyler().setXAxisTickLabelsColor(Color.BLACK);
        BufferedImage xchart = BitmapEncoder.getBufferedImage(own);
        own.getStyler().setXAxisTickLabelsColor(new Color(0, 0, 0, 0));
        BufferedImage bare = BitmapEncoder.getBufferedImage(own);
        int at = rendered.labels().stream().filter(l -> l.text().equals("100")).findFirst().orElseThrow().x();
        int[] ours = ink(rendered.image(), bare, at);
        int[] theirs = ink(xchart, bare, at);
        assertThat(ours[0]).isCloseTo(theirs[0], within(2));
        assertThat(ours[1]).isCloseTo(theirs[1], within(2));
        assertThat(ours[2]).isCloseTo(theirs[2], within(3));
        assertThat(ours[3]).isCloseTo(theirs[3], within(3));
    }

    /**
     * The box {left, right, top, bottom} of what {@code image} draws beyond {@code bare} in the lower half, within
     * 20 pixels of {@code x} and below the plot (text pixels, not the tick marks: rows where only one column differs
     * are left out).
     */
    private static int[] ink(BufferedImage image, BufferedImage bare, int x) {
        int[] box = {Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE};
        for (int py = image.getHeight() / 2; py < image.getHeight(); py++) {
            int first = Integer.MAX_VALUE;
            int last = Integer.MIN_VALUE;
            for (int px = x - 20; px <= x + 20; px++) {
                if (image.getRGB(px, py) != bare.getRGB(px, py)) {
                    first = Math.min(first, px);
                    last = Math.max(last, px);
                }
            }
            if (last > first) {
                box[0] = Math.min(box[0], first);
                box[1] = Math.max(box[1], last);
                box[2] = Math.min(box[2], py);
                box[3] = Math.max(box[3], py);
            }
        }
        assertThat(box[0]).as("something drawn near x = %d", x).isLessThan(Integer.MAX_VALUE);
        return box;
    }

    private static List<ValueLabels.Label> render(double[] x) {
        return ValueLabels.render(chart(x), x).labels();
    }

    private static void assertSameImage(BufferedImage a, BufferedImage b) {
        assertThat(a.getWidth()).isEqualTo(b.getWidth());
        assertThat(a.getHeight()).isEqualTo(b.getHeight());
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                assertThat(a.getRGB(x, y)).as("pixel (%d, %d)", x, y).isEqualTo(b.getRGB(x, y));
            }
        }
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
