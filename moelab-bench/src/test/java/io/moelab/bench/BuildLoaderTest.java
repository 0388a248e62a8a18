package io.moelab.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildLoaderTest {
    @TempDir
    Path dir;

    /** A build's classes win over the harness's copies of the same classes: that is what a side-by-side compares. */
    @Test
    void theBuildsClassesComeBeforeTheHarnesss() throws Exception {
        Path classes = compileProbe();
        ClassLoader loader = BuildLoader.of(classes.toString(), BuildLoaderTest.class);
        Class<?> hello = loader.loadClass("io.moelab.bench.probe.Hello");
        assertThat(hello.getMethod("id").invoke(null)).isEqualTo("build");
        assertThat(io.moelab.bench.probe.Hello.id()).isEqualTo("harness");
        // What the build lacks comes from the harness.
        assertThat(loader.loadClass(BuildLoaderTest.class.getName()).getClassLoader()).isSameAs(loader);
    }

    /**
     * A build may be a module's jar, as docs/BENCHMARKS.md runs DotSideBySide with {@code BEFORE.jar}: the directory
     * check refused it ("not a directory"), so the documented command did not start.
     */
    @Test
    void aBuildsJarIsABuildToo() throws Exception {
        Path classes = compileProbe();
        Path jar = dir.resolve("before.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("io/moelab/bench/probe/Hello.class"));
            out.write(Files.readAllBytes(classes.resolve("io/moelab/bench/probe/Hello.class")));
            out.closeEntry();
        }
        assertThat(BuildLoader.isBuild(jar.toString())).isTrue();
        ClassLoader loader = BuildLoader.of(jar.toString(), BuildLoaderTest.class);
        assertThat(loader.loadClass("io.moelab.bench.probe.Hello").getMethod("id").invoke(null)).isEqualTo("build");
    }

    /** A file that is not a jar would load nothing, and every class would come from the harness. */
    @Test
    void aFileThatIsNotAJarIsRefused() throws Exception {
        String text = Files.writeString(dir.resolve("notes.jar"), "not a zip").toString();
        assertThat(BuildLoader.isBuild(text)).isFalse();
        assertThatThrownBy(() -> BuildLoader.of(text, BuildLoaderTest.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("not a classes directory or jar: " + text);
    }

    /** The probe class compiled into a fresh classes directory; it says "build" (the harness's copy: "harness"). */
    private Path compileProbe() throws Exception {
        Path source = Files.createDirectories(dir.resolve("src/io/moelab/bench/probe")).resolve("Hello.java");
        Files.writeString(source, """
                package io.moelab.bench.probe;
                public final class Hello {
                    public static String id() {
                        return "build";
                    }
                }
                """);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                source.toString())).isZero();
        return classes;
    }

    /**
     * A classes directory that does not exist was taken, and every class then came from the harness: a mistyped
     * path compared a build with itself.
     */
    @Test
    void aMissingClassesDirectoryIsRefused() {
        String missing = dir.resolve("no-such-build/classes").toString();
        assertThatThrownBy(() -> BuildLoader.of(missing, BuildLoaderTest.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("not a classes directory or jar: " + missing);
    }
}
