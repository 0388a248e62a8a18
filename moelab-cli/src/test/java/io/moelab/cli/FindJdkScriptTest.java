package io.moelab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/find-jdk.sh, the JDK search shared by bin/moelab and ./mvnw, against fake JDK directories. */
class FindJdkScriptTest {
    private static final Path SCRIPT = Path.of("..", "bin", "find-jdk.sh").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private Path fakeJdk(String name, String version) throws IOException {
        Path home = Files.createDirectories(dir.resolve("jvm").resolve(name));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        Path bin = Files.createDirectories(home.resolve("bin"));
        for (String tool : new String[] {"java", "javac"}) {
            Path p = Files.writeString(bin.resolve(tool), "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return home;
    }

    /** Runs the finder under sh with a given JAVA_HOME and an empty PATH apart from sh's own tools. */
    private String[] find(String javaHome) throws Exception {
        Path emptyPath = Files.createDirectories(dir.resolve("path"));
        // Only the tools the script needs, as wrappers (not symlinks, which JUnit warns about when cleaning up).
        for (String tool : new String[] {"sed", "head", "dirname", "readlink"}) {
            Path target = Files.exists(Path.of("/usr/bin", tool)) ? Path.of("/usr/bin", tool) : Path.of("/bin", tool);
            Path wrapper = emptyPath.resolve(tool);
            if (!Files.exists(wrapper)) {
                Files.writeString(wrapper, "#!/bin/sh\nexec " + target + " \"$@\"\n");
                Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c",
                "set -euf; . '" + SCRIPT + "'; moelab_find_jdk && echo \"$JAVA_HOME\"");
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", emptyPath.toString());
        env.put("MOELAB_JVM_DIRS", dir.resolve("jvm").toString());
        if (javaHome != null) {
            env.put("JAVA_HOME", javaHome);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        String err = new String(p.getErrorStream().readAllBytes()).trim();
        return new String[] {String.valueOf(p.waitFor()), out, err};
    }

    @Test
    void javaHomeWinsWhenItIsNewEnough() throws Exception {
        Path home = fakeJdk("mine-25", "25.0.1");
        fakeJdk("other-26", "26");
        assertThat(find(home.toString())).containsExactly("0", home.toString(), "");
    }

    @Test
    void anOldJavaHomeFallsBackToTheNewestJdkInTheSearchDirectories() throws Exception {
        Path old = fakeJdk("jdk-17", "17.0.15");
        fakeJdk("jdk-25", "25.0.3");
        Path newest = fakeJdk("jdk-26", "26.0.1");
        fakeJdk("jdk-8", "1.8.0_402");
        assertThat(find(old.toString())).containsExactly("0", newest.toString(), "");
    }

    @Test
    void noSuitableJdkIsAOneLineErrorSayingHowToInstallOne() throws Exception {
        fakeJdk("jdk-17", "17.0.15");
        String[] result = find(null);
        assertThat(result[0]).isEqualTo("1");
        assertThat(result[1]).isEmpty();
        assertThat(result[2].lines()).singleElement().asString().startsWith("error: ").contains("JDK 25")
                .contains("install");
    }
}
