import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringJoiner;
import java.util.StringTokenizer;

/**
 * Travelling-salesman tours. Reads instances from standard input (the number of instances; per instance the
 * number of cities n and n lines "x y") and prints, per instance, the visiting order as n indices.
 */
public class Tour {

    // EVOLVE-BLOCK-START
    /**
     * A visiting order of all cities: a permutation of 0..n-1. The tour returns from the last city to the
     * first. This one is deliberately naive: the cities in index order.
     */
    static int[] solve(double[] x, double[] y) {
        int n = x.length;
        int[] tour = new int[n];
        for (int i = 0; i < n; i++) {
            tour[i] = i;
        }
        return tour;
    }
    // EVOLVE-BLOCK-END

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder all = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            all.append(line).append('\n');
        }
        StringTokenizer tokens = new StringTokenizer(all.toString());
        int instances = Integer.parseInt(tokens.nextToken());
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < instances; k++) {
            int n = Integer.parseInt(tokens.nextToken());
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = Double.parseDouble(tokens.nextToken());
                y[i] = Double.parseDouble(tokens.nextToken());
            }
            StringJoiner line = new StringJoiner(" ");
            for (int c : solve(x, y)) {
                line.add(String.valueOf(c));
            }
            out.append(line).append('\n');
        }
        System.out.print(out);
    }
}
