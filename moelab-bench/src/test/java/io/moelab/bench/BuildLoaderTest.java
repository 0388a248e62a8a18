package io.moelab.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildLoaderTest {
    @TempDir
    Path dir;

    /** A build's classes win over the harness's copies of the same classes: that is what a side-by-side compares. */
    @Test
    void theBuildsClassesComeBeforeTheHarnesss() throws Exception {
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
        ClassLoader loader = BuildLoader.of(classes.toString(), BuildLoaderTest.class);
        Class<?> hello = loader.loadClass("io.moelab.bench.probe.Hello");
        assertThat(hello.getMethod("id").invoke(null)).isEqualTo("build");
        assertThat(io.moelab.bench.probe.Hello.id()).isEqualTo("harness");
        // What the build lacks comes from the harness.
        assertThat(loader.loadClass(BuildLoaderTest.class.getName()).getClassLoader()).isSameAs(loader);
    }

    /**
     * A classes directory that does not exist was taken, and every class then came from the harness: a mistyped
     * path compared a build with itself.
     */
    @Test
    void aMissingClassesDirectoryIsRefused() {
        String missing = dir.resolve("no-such-build/classes").toString();
        assertThatThrownBy(() -> BuildLoader.of(missing, BuildLoaderTest.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("not a classes directory: " + missing);
    }
}
