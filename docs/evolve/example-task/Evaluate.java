import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Scores a candidate {@code Tour.java}: runs it as a subprocess on fixed travelling-salesman instances, checks
 * its tours and prints one JSON line of metrics. Usage: {@code java Evaluate.java PROGRAM [TIMEOUT_SECONDS]}.
 *
 * <p>Instances: for each seed in {@link #SEEDS}, {@link #CITIES} cities whose integer coordinates in [0, 1000)
 * come from the 64-bit linear congruential generator {@code s = s * 6364136223846793005 + 1442695040888963407}
 * (mod 2^64), each coordinate being {@code (s >>> 33) % 1000}: x then y, city after city. The score of an
 * instance is {@code baseline / length}, where length is the closed tour's Euclidean length and baseline that of
 * the nearest-neighbour tour from city 0 (ties to the lower index); {@code combined_score} is their mean.
 */
public class Evaluate {
    static final long[] SEEDS = {1, 2, 3};
    static final int CITIES = 40;
    static final int MAX_OUTPUT_BYTES = 1 << 20;

    public static void main(String[] args) {
        String result;
        try {
            result = evaluate(args);
        } catch (Exception e) {
            result = error("evaluator_error", e.toString());
        }
        System.out.println(result);
    }

    static String evaluate(String[] args) throws IOException, InterruptedException {
        if (args.length < 1 || args.length > 2) {
            return error("evaluator_error", "usage: java Evaluate.java PROGRAM [TIMEOUT_SECONDS]");
        }
        Path program = Path.of(args[0]).toAbsolutePath();
        double timeout = args.length > 1 ? Double.parseDouble(args[1]) : 20;

        List<int[][]> instances = new ArrayList<>();
        StringBuilder input = new StringBuilder().append(SEEDS.length).append('\n');
        for (long seed : SEEDS) {
            int[][] c = cities(seed);
            instances.add(c);
            input.append(c.length).append('\n');
            for (int[] p : c) {
                input.append(p[0]).append(' ').append(p[1]).append('\n');
            }
        }

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", program.toString());
        long start = System.nanoTime();
        Process p = pb.start();
        Capture out = new Capture(p.getInputStream(), p);
        Capture err = new Capture(p.getErrorStream(), p);
        out.start();
        err.start();
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write(input.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // The program exited without reading its input; its exit code and output tell why.
        }
        boolean finished = p.waitFor(Math.round(timeout * 1000), TimeUnit.MILLISECONDS);
        if (!finished) {
            kill(p);
            return error("timeout", "the program did not finish within " + timeout + " s");
        }
        out.join();
        err.join();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (out.overflow || err.overflow) {
            return error("invalid_output", "the program printed more than " + MAX_OUTPUT_BYTES + " bytes");
        }
        String stderr = tail(err.text(), 2000);
        if (p.exitValue() != 0) {
            boolean compile = stderr.contains("error: compilation failed");
            return error(compile ? "compile_error" : "program_error", (compile ? "" : "exit code " + p.exitValue()
                    + ": ") + stderr);
        }

        List<String> lines = out.text().lines().filter(l -> !l.isBlank()).toList();
        if (lines.size() != instances.size()) {
            return error("invalid_output", "expected " + instances.size() + " lines (one tour per instance), got "
                    + lines.size() + ": " + tail(out.text(), 300));
        }
        double scoreSum = 0;
        double lengthSum = 0;
        double baselineSum = 0;
        for (int k = 0; k < instances.size(); k++) {
            int[][] c = instances.get(k);
            int[] tour;
            try {
                tour = permutation(lines.get(k), c.length);
            } catch (IllegalArgumentException e) {
                return error("invalid_output", "instance " + (k + 1) + ": " + e.getMessage());
            }
            double length = length(c, tour);
            double baseline = length(c, nearestNeighbour(c));
            scoreSum += baseline / length;
            lengthSum += length;
            baselineSum += baseline;
        }
        int n = instances.size();
        return "{\"combined_score\": " + scoreSum / n + ", \"valid\": true, \"mean_tour_length\": " + lengthSum / n
                + ", \"mean_baseline_length\": " + baselineSum / n + ", \"program_seconds\": "
                + String.format(Locale.ROOT, "%.3f", seconds) + "}";
    }

    /** The cities of one instance (see the class comment). */
    static int[][] cities(long seed) {
        long s = seed;
        int[][] c = new int[CITIES][2];
        for (int i = 0; i < CITIES; i++) {
            for (int d = 0; d < 2; d++) {
                s = s * 6364136223846793005L + 1442695040888963407L;
                c[i][d] = (int) ((s >>> 33) % 1000);
            }
        }
        return c;
    }

    static double length(int[][] c, int[] tour) {
        double sum = 0;
        for (int i = 0; i < tour.length; i++) {
            int[] a = c[tour[i]];
            int[] b = c[tour[(i + 1) % tour.length]];
            sum += Math.hypot(a[0] - b[0], a[1] - b[1]);
        }
        return sum;
    }

    static int[] nearestNeighbour(int[][] c) {
        int n = c.length;
        boolean[] seen = new boolean[n];
        int[] tour = new int[n];
        seen[0] = true;
        for (int i = 1; i < n; i++) {
            int from = tour[i - 1];
            int best = -1;
            double bestD = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double d = Math.hypot(c[from][0] - c[j][0], c[from][1] - c[j][1]);
                if (!seen[j] && d < bestD) {
                    best = j;
                    bestD = d;
                }
            }
            tour[i] = best;
            seen[best] = true;
        }
        return tour;
    }

    /** The tour on one output line, which must be a permutation of 0..n-1. */
    static int[] permutation(String line, int n) {
        String[] parts = line.strip().split("\\s+");
        if (parts.length != n) {
            throw new IllegalArgumentException("expected " + n + " city indices, got " + parts.length + ": "
                    + tail(line, 200));
        }
        int[] tour = new int[n];
        boolean[] seen = new boolean[n];
        for (int i = 0; i < n; i++) {
            int v;
            try {
                v = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + tail(parts[i], 40) + "' is not a city index");
            }
            if (v < 0 || v >= n) {
                throw new IllegalArgumentException("city " + v + " is out of range 0.." + (n - 1));
            }
            if (seen[v]) {
                throw new IllegalArgumentException("city " + v + " is visited twice");
            }
            seen[v] = true;
            tour[i] = v;
        }
        return tour;
    }

    static String error(String kind, String message) {
        return "{\"error\": " + quote(kind) + ", \"error_message\": " + quote(message) + ", \"combined_score\": 0.0}";
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    static String tail(String s, int max) {
        String t = s.strip();
        return t.length() <= max ? t : "..." + t.substring(t.length() - max);
    }

    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /** Reads a stream to its end, keeping at most MAX_OUTPUT_BYTES and killing the program beyond that. */
    static final class Capture extends Thread {
        private final InputStream in;
        private final Process process;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        volatile boolean overflow;

        Capture(InputStream in, Process process) {
            this.in = in;
            this.process = process;
            setDaemon(true);
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                for (int r; (r = in.read(buf)) >= 0; ) {
                    if (bytes.size() + r > MAX_OUTPUT_BYTES) {
                        overflow = true;
                        kill(process);
                        return;
                    }
                    bytes.write(buf, 0, r);
                }
            } catch (IOException e) {
                // The process was killed; what was read counts.
            }
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
