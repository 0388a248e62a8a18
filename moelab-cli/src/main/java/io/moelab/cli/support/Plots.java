package io.moelab.cli.support;

import io.moelab.eplb.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG line charts for reports, written atomically. Rendering is headless: no display is needed. */
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {
    }

    /**
     * Axis choices of a chart.
     *
     * @param yRange fixed {min, max} of the y axis, or null to fit the data
     * @param logX   a logarithmic x axis
     * @param logY   a logarithmic y axis
     */
    public record Axes(double[] yRange, boolean logX, boolean logY) {
        /** Linear axes fitted to the data. */
        public static final Axes LINEAR = new Axes(null, false, false);
    }

    /**
     * Writes a line chart with one series per entry of {@code series} (name to y values at x = 1, 2, ...).
     *
     * @param yRange fixed {min, max} of the y axis, or null to fit the data
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void lines(Path png, String title, String xTitle, String yTitle, Map<String, double[]> series,
                             double[] yRange) throws IOException {
        lines(png, title, xTitle, yTitle, null, series, new Axes(yRange, false, false));
    }

    /**
     * Writes a line chart with one series per entry of {@code series}, all over the same x values.
     *
     * @param x    x values, or null for 1, 2, ...
     * @param axes axis ranges and scales
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void lines(Path png, String title, String xTitle, String yTitle, double[] x,
                             Map<String, double[]> series, Axes axes) throws IOException {
        write(png, lineChart(title, xTitle, yTitle, x, series, axes));
    }

    /**
     * The chart {@link #lines(Path, String, String, String, double[], Map, Axes)} writes, for callers that check
     * what it plots.
     */
    public static XYChart lineChart(String title, String xTitle, String yTitle, double[] x,
                                    Map<String, double[]> series, Axes axes) {
        XYChart chart = chart(title, xTitle, yTitle);
        if (axes.yRange() != null) {
            chart.getStyler().setYAxisMin(axes.yRange()[0]);
            chart.getStyler().setYAxisMax(axes.yRange()[1]);
        }
        chart.getStyler().setXAxisLogarithmic(axes.logX());
        chart.getStyler().setXAxisDecimalPattern("#"); // steps and counts: no grouping commas to collide
        chart.getStyler().setYAxisDecimalPattern("#,##0.###"); // 650,000 rather than 6.5E5
        chart.getStyler().setYAxisLogarithmic(axes.logY());
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[] y = e.getValue();
            double[] xs = x;
            if (xs == null) {
                xs = new double[y.length];
                for (int i = 0; i < y.length; i++) {
                    xs[i] = i + 1;
                }
            }
            XYSeries s = chart.addSeries(e.getKey(), xs, y);
            s.setMarker(y.length <= 60 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(y.length <= 60 ? 2f : 1.2f));
        }
        return chart;
    }

    /**
     * Writes {@code chart} as a PNG, atomically.
     *
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void write(Path png, XYChart chart) throws IOException {
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /**
     * Writes {@code image}, a rendered chart, as a PNG, atomically.
     *
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void write(Path png, BufferedImage image) throws IOException {
        AtomicFiles.write(png, out -> ImageIO.write(image, "png", out));
    }

    /**
     * One series of {@link #xy}: drawn as a line with markers, or as markers only.
     *
     * @param name legend name
     * @param x    x values
     * @param y    y values, as many as x
     * @param line connect the points
     */
    public record Series(String name, double[] x, double[] y, boolean line) {
    }

    /**
     * Writes a chart of series with x values of their own (lines and scatter points together).
     *
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void xy(Path png, String title, String xTitle, String yTitle, java.util.List<Series> series)
            throws IOException {
        XYChart chart = chart(title, xTitle, yTitle);
        chart.getStyler().setXAxisDecimalPattern("#");
        chart.getStyler().setYAxisDecimalPattern("#,##0.###");
        for (Series e : series) {
            if (e.x().length == 0) {
                continue; // XChart refuses empty series
            }
            XYSeries s = chart.addSeries(e.name(), e.x(), e.y());
            s.setMarker(SeriesMarkers.CIRCLE);
            if (e.line()) {
                s.setLineStyle(new BasicStroke(2f));
            } else {
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            }
        }
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /**
     * Writes a heat map: one row per {@code rows} entry (name to a value per column), columns labelled 0, 1, ...
     * (for example the share of a domain's tokens each expert receives).
     *
     * @throws IOException as {@link AtomicFiles#write(Path, AtomicFiles.Content)}
     */
    public static void heatMap(Path png, String title, String xTitle, Map<String, double[]> rows) throws IOException {
        HeatMapChart chart = heatMapChart(title, xTitle, rows);
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /**
     * The chart {@link #heatMap} writes, for callers that check what it plots: the first row of {@code rows} on top.
     */
    public static HeatMapChart heatMapChart(String title, String xTitle, Map<String, double[]> rows) {
        int columns = rows.values().iterator().next().length;
        java.util.List<Integer> xs = new java.util.ArrayList<>();
        for (int i = 0; i < columns; i++) {
            xs.add(i);
        }
        // XChart draws the first category at the bottom; reversed, the rows read top-down in the given order.
        java.util.List<String> ys = new java.util.ArrayList<>(rows.keySet()).reversed();
        java.util.List<Number[]> cells = new java.util.ArrayList<>();
        int r = rows.size() - 1;
        for (double[] row : rows.values()) {
            for (int c = 0; c < columns; c++) {
                cells.add(new Number[] {c, r, row[c]});
            }
            r--;
        }
        HeatMapChart chart = new HeatMapChartBuilder().width(Math.max(700, 120 + columns * 40))
                .height(Math.max(400, 140 + ys.size() * 28)).title(title).xAxisTitle(xTitle).build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotContentSize(1.0);
        chart.getStyler().setShowValue(false);
        chart.getStyler().setRangeColors(new Color[] {Color.WHITE, new Color(0x9ecae1), new Color(0x08306b)});
        chart.addSeries("share", xs, ys, cells);
        return chart;
    }

    /** An empty white chart with the legend inside, bottom right. */
    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        Styler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.InsideSE);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        return chart;
    }
}
