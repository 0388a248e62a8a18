package io.moelab.cli.support;

import io.moelab.eplb.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
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
     * Writes a line chart with one series per entry of {@code series} (name to y values at x = 1, 2, ...).
     *
     * @param yRange fixed {min, max} of the y axis, or null to fit the data
     */
    public static void lines(Path png, String title, String xTitle, String yTitle, Map<String, double[]> series,
                             double[] yRange) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        Styler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.InsideSE);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        if (yRange != null) {
            chart.getStyler().setYAxisMin(yRange[0]);
            chart.getStyler().setYAxisMax(yRange[1]);
        }
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[] y = e.getValue();
            double[] x = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                x[i] = i + 1;
            }
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(y.length <= 60 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(2f));
        }
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
