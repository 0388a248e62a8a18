package io.moelab.cli.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapSeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * What the charts plot, read back from the chart objects: the commands' tests only check that a PNG is written, so
 * rows drawn in another order, x values off by one, or a heat map cut to the wrong size passed them.
 */
class PlotsTest {
    @TempDir
    Path dir;

    /**
     * Without x values a series is drawn at x = 1, 2, ...; series of up to 60 points get markers and a 2-pixel line,
     * longer ones a thinner line alone.
     */
    @Test
    void lineSeriesCountFromOneAndMarkShortSeriesOnly() {
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("short", new double[60]);
        series.put("long", new double[61]);
        XYChart chart = Plots.lineChart("t", "x", "y", null, series, Plots.Axes.LINEAR);
        XYSeries shortOne = chart.getSeriesMap().get("short");
        XYSeries longOne = chart.getSeriesMap().get("long");
        assertThat(shortOne.getXData()).startsWith(1, 2, 3).endsWith(59, 60).hasSize(60);
        assertThat(longOne.getXData()).startsWith(1, 2).endsWith(61).hasSize(61);
        assertThat(shortOne.getMarker()).isEqualTo(SeriesMarkers.CIRCLE);
        assertThat(longOne.getMarker()).isEqualTo(SeriesMarkers.NONE);
        assertThat(shortOne.getLineStyle().getLineWidth()).isEqualTo(2f);
        assertThat(longOne.getLineStyle().getLineWidth()).isEqualTo(1.2f);
        double[] x = {10, 20, 40};
        XYChart given = Plots.lineChart("t", "x", "y", x, Map.of("s", new double[] {1, 2, 3}),
                new Plots.Axes(new double[] {0, 5}, true, false));
        assertThat(given.getSeriesMap().get("s").getXData()).containsExactly(10, 20, 40);
        assertThat(given.getStyler().getYAxisMin()).isEqualTo(0.0);
        assertThat(given.getStyler().getYAxisMax()).isEqualTo(5.0);
        assertThat(given.getStyler().isXAxisLogarithmic()).isTrue();
        assertThat(given.getStyler().isYAxisLogarithmic()).isFalse();
    }

    /**
     * A heat map draws the first row on top: XChart puts its first category at the bottom, so the rows are given
     * reversed and each cell's row index counts down from the top. Columns are 0, 1, ...; the image grows 40 pixels a
     * column past 14 columns and 28 a row past 9 rows.
     */
    @Test
    void aHeatMapDrawsItsRowsTopDownAndGrowsWithThem() {
        Map<String, double[]> rows = new LinkedHashMap<>();
        rows.put("first", new double[] {0.1, 0.2, 0.3});
        rows.put("second", new double[] {0.4, 0.5, 0.6});
        HeatMapChart small = Plots.heatMapChart("t", "expert", rows);
        HeatMapSeries s = small.getSeriesMap().get("share");
        assertThat(List.<Object>copyOf(s.getXData())).containsExactly(0, 1, 2);
        assertThat(List.<Object>copyOf(s.getYData())).containsExactly("second", "first");
        // {column, row index, value}: "first" is the last category, index 1, drawn on top.
        assertThat(s.getHeatData().stream().map(List::of).toList()).containsExactly(List.of(0, 1, 0.1),
                List.of(1, 1, 0.2), List.of(2, 1, 0.3), List.of(0, 0, 0.4), List.of(1, 0, 0.5), List.of(2, 0, 0.6));
        assertThat(small.getWidth()).isEqualTo(700);
        assertThat(small.getHeight()).isEqualTo(400);
        Map<String, double[]> many = new LinkedHashMap<>();
        for (int r = 0; r < 12; r++) {
            many.put("row " + r, new double[20]);
        }
        HeatMapChart large = Plots.heatMapChart("t", "expert", many);
        assertThat(large.getWidth()).isEqualTo(120 + 20 * 40);
        assertThat(large.getHeight()).isEqualTo(140 + 12 * 28);
    }

    /**
     * The heat map, the chart of series with x values of their own and a rendered image are written as PNGs of their
     * size.
     */
    @Test
    void chartsAreWrittenAsPngs() throws Exception {
        Path heat = dir.resolve("heat.png");
        Plots.heatMap(heat, "t", "expert", Map.of("only", new double[] {0.5, 0.5}));
        BufferedImage h = ImageIO.read(heat.toFile());
        assertThat(h.getWidth()).isEqualTo(700);
        assertThat(h.getHeight()).isEqualTo(400);
        // An empty series is left out (XChart refuses one); lines and scatter points together.
        Path xy = dir.resolve("xy.png");
        Plots.xy(xy, "t", "x", "y", List.of(new Plots.Series("none", new double[0], new double[0], true),
                new Plots.Series("line", new double[] {1, 2}, new double[] {3, 4}, true),
                new Plots.Series("points", new double[] {1.5}, new double[] {3.5}, false)));
        BufferedImage image = ImageIO.read(xy.toFile());
        assertThat(image.getWidth()).isEqualTo(900);
        assertThat(image.getHeight()).isEqualTo(500);
        // A rendered image, as the sweep's labelled plot is written.
        Path rendered = dir.resolve("rendered.png");
        Plots.write(rendered, new BufferedImage(30, 20, BufferedImage.TYPE_INT_RGB));
        BufferedImage back = ImageIO.read(rendered.toFile());
        assertThat(back.getWidth()).isEqualTo(30);
        assertThat(back.getHeight()).isEqualTo(20);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("heat.png", "xy.png",
                    "rendered.png");
        }
    }
}
