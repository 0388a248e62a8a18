package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/moelab's JVM flags per command, run against a fake JDK whose java prints its arguments, and the AOT cache
 * with the real JVM: whatever state the cache is in, the command's output is its own.
 */
class LauncherScriptTest {
    private static final Path BIN = Path.of("..", "bin").toAbsolutePath().normalize();
    private static final String RELEASE = "JAVA_VERSION=\"25.0.1\"\nJAVA_RUNTIME_VERSION=\"25.0.1+8\"\n";

    @TempDir
    Path dir;

    /** A copy of the launcher in a root of its own (with a space in its path), beside a stand-in jar. */
    private Path root;
    private Path fakeJdk;
    private Path aot;

    @BeforeEach
    void setUp() throws IOException {
        root = dir.resolve("moelab root");
        Path bin = Files.createDirectories(root.resolve("bin"));
        for (String script : new String[] {"moelab", "find-jdk.sh"}) {
            Files.copy(BIN.resolve(script), bin.resolve(script), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(bin.resolve("moelab"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path target = Files.createDirectories(root.resolve("moelab-cli/target"));
        Files.writeString(target.resolve("moelab.jar"), "");
        Files.createDirectories(target.resolve("lib"));
        Files.writeString(target.resolve("lib/dep.jar"), "");
        aot = target.resolve("aot/moelab.aot");
        fakeJdk = Files.createDirectories(dir.resolve("jdk"));
        Files.writeString(fakeJdk.resolve("release"), RELEASE);
        Path jdkBin = Files.createDirectories(fakeJdk.resolve("bin"));
        // Without a release file bin/find-jdk.sh asks java -version.
        executable(jdkBin.resolve("java"), "#!/bin/sh\n[ \"$1\" != -version ] || "
                + "{ echo 'openjdk version \"25.0.1\"' >&2; exit 0; }\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; "
                + "done\n");
        executable(jdkBin.resolve("javac"), "#!/bin/sh\nexit 0\n");
    }

    /** The arguments bin/moelab passes to java for {@code args}, one per element. */
    private List<String> javaArgs(String... args) throws Exception {
        return javaArgs(Map.of(), args);
    }

    private List<String> javaArgs(Map<String, String> env, String... args) throws Exception {
        Run r = launch(fakeJdk, dir, env, args);
        assertThat(r.code).as(r.err).isZero();
        return r.out.lines().toList();
    }

    private record Run(int code, String out, String err) {
    }

    private Run launch(Path javaHome, Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(root.resolve("bin/moelab").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        pb.environment().put("JAVA_HOME", javaHome.toString());
        for (String inherited : new String[] {"MOELAB_JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}) {
            pb.environment().remove(inherited);
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        return new Run(p.waitFor(), out, err);
    }

    private static void executable(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** An AOT cache as the build leaves it: made after the jars, by the JDK with release file {@code release}. */
    private void cache(String release) throws IOException {
        Files.createDirectories(aot.getParent());
        Files.writeString(aot, "cache");
        Files.writeString(aot.resolveSibling("moelab.aot.jdk-release"), release);
        Instant jars = Instant.now().minusSeconds(60);
        for (Path jar : new Path[] {root.resolve("moelab-cli/target/moelab.jar"),
                root.resolve("moelab-cli/target/lib/dep.jar")}) {
            Files.setLastModifiedTime(jar, FileTime.from(jars));
        }
    }

    @Test
    void everyCommandMayUseNativeAccess() throws Exception {
        // The progress bar on a terminal (eplb generate and evaluate, sim, evolve) loads JLine's native library:
        // without the flag the JVM printed four "WARNING: A restricted method in java.lang.System has been called"
        // lines.
        for (String command : new String[] {"eplb", "sim", "evolve", "logits", "generate", "train"}) {
            assertThat(javaArgs(command, "--help")).as(command).contains("--enable-native-access=ALL-UNNAMED");
        }
    }

    @Test
    void onlyTheRuntimeCommandsAddTheVectorModule() throws Exception {
        // The incubator module makes the JVM print its own warning, unavoidable where the Vector API is used only.
        for (String command : new String[] {"logits", "generate", "perplexity", "bench", "trace"}) {
            assertThat(javaArgs(command)).as(command).contains("jdk.incubator.vector");
        }
        for (String command : new String[] {"eplb", "sim", "evolve", "train"}) {
            assertThat(javaArgs(command)).as(command).doesNotContain("jdk.incubator.vector");
        }
    }

    @Test
    void theAotCacheTheBuildMadeIsUsedQuietly() throws Exception {
        assertThat(javaArgs("--version")).doesNotContain("-XX:AOTCache=" + aot);
        cache(RELEASE);
        for (String command : new String[] {"--version", "eplb", "sim", "evolve", "train"}) {
            // One argument, though the path has a space; the JVM's complaints about a cache it cannot use (which
            // go to stdout) are off.
            assertThat(javaArgs(command, "--help")).as(command)
                    .contains("-XX:AOTCache=" + aot, "-Xlog:aot*=off,cds*=off");
        }
    }

    @Test
    void notForTheVectorCommandsWhoseModuleGraphTheCacheLacks() throws Exception {
        // The JVM would refuse it and then run without even the JDK's own class data sharing.
        cache(RELEASE);
        for (String command : new String[] {"logits", "generate", "perplexity", "bench", "trace"}) {
            assertThat(javaArgs(command)).as(command).noneMatch(a -> a.contains("AOT"));
        }
    }

    @Test
    void notWithJvmOptionsOfTheUsers() throws Exception {
        // -Xshare:off or -XX:SharedArchiveFile beside -XX:AOTCache stops the JVM; others (a heap over 32 GB, another
        // collector) make it refuse the cache: the user's options run as they did before there was one.
        cache(RELEASE);
        for (String variable : new String[] {"MOELAB_JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}) {
            assertThat(javaArgs(Map.of(variable, "-Xshare:off"), "eplb")).as(variable)
                    .noneMatch(a -> a.contains("AOT"));
        }
        assertThat(javaArgs(Map.of("MOELAB_JAVA_OPTS", ""), "eplb")).contains("-XX:AOTCache=" + aot);
    }

    @Test
    void notWhenAJarWasRebuiltAfterIt() throws Exception {
        for (String jar : new String[] {"moelab.jar", "lib/dep.jar"}) {
            cache(RELEASE);
            Files.setLastModifiedTime(root.resolve("moelab-cli/target").resolve(jar),
                    FileTime.from(Instant.now().plusSeconds(5)));
            assertThat(javaArgs("eplb")).as(jar).noneMatch(a -> a.contains("AOT"));
        }
    }

    @Test
    void notForAnotherJdkThanTheOneThatMadeIt() throws Exception {
        cache(RELEASE.replace("25.0.1+8", "25.0.2+10"));
        assertThat(javaArgs("eplb")).noneMatch(a -> a.contains("AOT"));
        cache(RELEASE);
        Files.delete(aot.resolveSibling("moelab.aot.jdk-release"));
        assertThat(javaArgs("eplb")).noneMatch(a -> a.contains("AOT"));
        cache(RELEASE);
        Files.delete(fakeJdk.resolve("release"));
        assertThat(javaArgs("eplb")).noneMatch(a -> a.contains("AOT"));
    }

    /** Prints its arguments: the stand-in for moelab's main class in the real-JVM test. */
    public static final class Echo {
        private Echo() {
        }

        public static void main(String[] args) {
            System.out.println("echo " + String.join(" ", args));
        }
    }

    private void echoJar(Path jar, String padding) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Echo.class.getName());
        String entry = Echo.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest);
                InputStream in = Echo.class.getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.putNextEntry(new JarEntry("padding.txt"));
            out.write(padding.getBytes());
        }
    }

    @Test
    void withTheRealJvmAnUnusableCacheChangesNothingButSpeed() throws Exception {
        Path jdk = Path.of(System.getProperty("java.home"));
        Path jar = root.resolve("moelab-cli/target/moelab.jar");
        Files.delete(root.resolve("moelab-cli/target/lib/dep.jar"));
        echoJar(jar, "");
        // Made as the build makes it: through the launcher, with its options, a path relative to target/aot.
        Files.createDirectories(aot.getParent());
        Run made = launch(jdk, aot.getParent(), Map.of("MOELAB_JAVA_OPTS", "-XX:AOTCacheOutput=moelab.aot"), "x");
        assertThat(made.code).as(made.err).isZero();
        assertThat(aot).isNotEmptyFile();
        Files.copy(jdk.resolve("release"), aot.resolveSibling("moelab.aot.jdk-release"));

        // Where the commands run: nothing may be written there.
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        List<Run> runs = new ArrayList<>();
        runs.add(launch(jdk, cwd, Map.of(), "a", "b"));
        // The jar rebuilt with the same time stamp as before: the launcher passes the cache, the JVM refuses it.
        FileTime stamp = Files.getLastModifiedTime(jar);
        echoJar(jar, "a longer jar");
        Files.setLastModifiedTime(jar, stamp);
        runs.add(launch(jdk, cwd, Map.of(), "a", "b"));
        // Not a cache at all.
        Files.write(aot, new byte[4096]);
        runs.add(launch(jdk, cwd, Map.of(), "a", "b"));
        Files.writeString(aot, "");
        runs.add(launch(jdk, cwd, Map.of(), "a", "b"));
        for (Run r : runs) {
            assertThat(r.err).isEmpty();
            assertThat(r.out).isEqualTo("echo a b\n");
            assertThat(r.code).isZero();
        }
        try (var left = Files.list(cwd)) {
            assertThat(left).isEmpty();
        }
    }
}
