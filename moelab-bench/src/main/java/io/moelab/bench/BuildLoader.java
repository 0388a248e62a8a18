package io.moelab.bench;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;

/**
 * Class loaders for the side-by-side harnesses, which time two or more builds of a module in one JVM so that a
 * shared host's drifting load hits them alike.
 */
public final class BuildLoader {
    private BuildLoader() {
    }

    /**
     * Whether {@code path} holds a build: a classes directory, or a jar (a file that opens as a zip archive), such as
     * a module's {@code target/*.jar} kept from an earlier commit.
     *
     * @param path the build's classes directory or jar
     * @return true for a directory or a readable jar; false for a missing path or another kind of file, which a loader
     *         would read nothing from, falling back on the harness's own copy of every class
     */
    public static boolean isBuild(String path) {
        Path p = Path.of(path);
        if (Files.isDirectory(p)) {
            return true;
        }
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (ZipFile _ = new ZipFile(p.toFile())) { // opens: a zip archive
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A loader over one build's classes directory or jar, then the harness's own jar (for what the build does not
     * hold: the other modules and the dependencies), then the platform: the build first, so that its classes win
     * over the copies of the same module inside the harness's jar.
     *
     * @param classes the build's {@code target/classes} directory (or a copy of it), or its jar
     * @param harness a class of the running harness, whose code source is the jar to fall back on
     * @return the loader, whose parent is the platform loader
     * @throws MalformedURLException if {@code classes} cannot be made a URL
     * @throws IllegalArgumentException if {@code classes} is not a build ({@link #isBuild}): the loader would fall
     *                                  back on the harness's own copy of every class, and a mistyped path compared a
     *                                  build with itself
     */
    public static ClassLoader of(String classes, Class<?> harness) throws MalformedURLException {
        if (!isBuild(classes)) {
            throw new IllegalArgumentException("not a classes directory or jar: " + classes);
        }
        URL own = harness.getProtectionDomain().getCodeSource().getLocation();
        return new URLClassLoader(new URL[] {Path.of(classes).toUri().toURL(), own},
                ClassLoader.getPlatformClassLoader());
    }
}
