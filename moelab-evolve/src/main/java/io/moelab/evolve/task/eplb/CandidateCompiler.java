package io.moelab.evolve.task.eplb;

import io.moelab.evolve.process.Directories;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * Compiles a candidate program in-process with javac into a class directory, skipping the work when the
 * directory already holds the classes of the same source (stage 2 reuses stage 1's compile). Only the EPLB API
 * types of the class path are visible to the candidate ({@link CandidateLoader#isAllowedApi}).
 */
final class CandidateCompiler {
    /** File in the class directory holding the SHA-256 of the source its classes came from. */
    static final String HASH_FILE = ".sha256";

    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "(?m)^\\s*public\\s+(?:(?:final|abstract|sealed|non-sealed|strictfp|static)\\s+)*"
                    + "(?:class|record|enum|interface)\\s+([A-Za-z_$][A-Za-z0-9_$]*)");

    private CandidateCompiler() {
    }

    /**
     * Compiles {@code source} into {@code classes} unless it already holds this source's classes.
     *
     * @param classPath the class path javac resolves the API against
     * @return whether javac ran (false when the cached classes were reused)
     * @throws CandidateFailure of kind {@code COMPILE_ERROR} with javac's diagnostics
     */
    static boolean compile(String source, String classPath, Path classes) throws CandidateFailure, IOException {
        String hash = sha256(source);
        Path hashFile = classes.resolve(HASH_FILE);
        if (Files.isRegularFile(hashFile) && Files.readString(hashFile).strip().equals(hash)) {
            return false;
        }
        Directories.deleteTree(classes);
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("no Java compiler in this runtime (" + System.getProperty("java.home")
                    + "); run the harness with a JDK");
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        String fileName = publicTypeName(source) + ".java";
        JavaFileObject unit = new SourceUnit(fileName, source);
        boolean ok;
        try (StandardJavaFileManager standard = javac.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8);
             ApiOnlyFileManager files = new ApiOnlyFileManager(standard)) {
            standard.setLocationFromPaths(StandardLocation.CLASS_OUTPUT, List.of(classes));
            List<String> options = List.of("-proc:none", "-encoding", "UTF-8", "-classpath", classPath,
                    "-implicit:none", "-Xlint:none", "-g");
            ok = javac.getTask(null, files, diagnostics, options, null, List.of(unit)).call();
        }
        if (!ok) {
            throw new CandidateFailure(CandidateFailure.Kind.COMPILE_ERROR, format(diagnostics, source));
        }
        Files.writeString(classes.resolve(HASH_FILE), hash + "\n");
        return true;
    }

    /** The name of the first public top-level type declared in {@code source}, or {@code EvolvedBalancer}. */
    static String publicTypeName(String source) {
        Matcher m = PUBLIC_TYPE.matcher(source);
        return m.find() ? m.group(1) : "EvolvedBalancer";
    }

    /** Hex SHA-256 of the UTF-8 bytes of {@code text}. */
    static String sha256(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** javac's errors as {@code File.java:LINE:COL: error: message} lines, each followed by its source line. */
    private static String format(DiagnosticCollector<JavaFileObject> diagnostics, String source) {
        String[] lines = source.split("\r?\n", -1);
        StringBuilder sb = new StringBuilder();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() != Diagnostic.Kind.ERROR) {
                continue;
            }
            String file = d.getSource() == null ? "" : d.getSource().getName().replaceFirst("^/", "") + ":";
            long line = d.getLineNumber();
            sb.append(file).append(line > 0 ? line + ":" + d.getColumnNumber() + ":" : "").append(" error: ")
                    .append(d.getMessage(Locale.ROOT)).append('\n');
            if (line > 0 && line <= lines.length) {
                sb.append("    ").append(lines[(int) line - 1].strip()).append('\n');
            }
        }
        if (sb.indexOf("io.moelab") >= 0) {
            sb.append("note: candidates see only java.*, javax.* and ")
                    .append(String.join(", ", CandidateLoader.API.stream().sorted().toList())).append('\n');
        }
        return sb.isEmpty() ? "javac failed without diagnostics" : sb.toString();
    }

    /** A source file held in memory, named after its public class so that javac accepts it. */
    private static final class SourceUnit extends SimpleJavaFileObject {
        private final String source;

        SourceUnit(String fileName, String source) {
            super(URI.create("string:///" + fileName), Kind.SOURCE);
            this.source = source;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return source;
        }
    }

    /** Hides every class-path class except the EPLB API from javac. */
    private static final class ApiOnlyFileManager extends ForwardingJavaFileManager<StandardJavaFileManager> {
        ApiOnlyFileManager(StandardJavaFileManager standard) {
            super(standard);
        }

        @Override
        public Iterable<JavaFileObject> list(Location location, String packageName, Set<JavaFileObject.Kind> kinds,
                                             boolean recurse) throws IOException {
            Iterable<JavaFileObject> all = super.list(location, packageName, kinds, recurse);
            if (location != StandardLocation.CLASS_PATH) {
                return all;
            }
            List<JavaFileObject> visible = new ArrayList<>();
            for (JavaFileObject file : all) {
                String binaryName = inferBinaryName(location, file);
                if (binaryName != null && CandidateLoader.isAllowedApi(binaryName)) {
                    visible.add(file);
                }
            }
            return visible;
        }
    }
}
