package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/moelab's JVM flags per command, run against a fake JDK whose java prints its arguments. */
class LauncherScriptTest {
    private static final Path BIN = Path.of("..", "bin").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    /** The arguments bin/moelab passes to java for {@code args}, one per element. */
    private List<String> javaArgs(String... args) throws Exception {
        // A copy of the launcher in a root of its own, beside a stand-in jar, so that no build is needed.
        Path bin = Files.createDirectories(dir.resolve("root/bin"));
        for (String script : new String[] {"moelab", "find-jdk.sh"}) {
            Files.copy(BIN.resolve(script), bin.resolve(script), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(bin.resolve("moelab"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path target = Files.createDirectories(dir.resolve("root/moelab-cli/target"));
        Files.writeString(target.resolve("moelab.jar"), "");
        Path home = Files.createDirectories(dir.resolve("jdk"));
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"25.0.1\"\n");
        Path jdkBin = Files.createDirectories(home.resolve("bin"));
        executable(jdkBin.resolve("java"), "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        executable(jdkBin.resolve("javac"), "#!/bin/sh\nexit 0\n");
        String[] command = new String[args.length + 1];
        command[0] = bin.resolve("moelab").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("JAVA_HOME", home.toString());
        pb.environment().remove("MOELAB_JAVA_OPTS");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor()).as(err).isZero();
        return out.lines().toList();
    }

    private static void executable(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
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
}
