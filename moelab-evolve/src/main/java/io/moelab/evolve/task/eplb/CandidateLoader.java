package io.moelab.evolve.task.eplb;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.PlacementMode;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Loads a compiled candidate so that it sees only {@code java.*}, {@code javax.*} and the EPLB API types (and
 * their nested types), and finds and instantiates its balancer.
 */
final class CandidateLoader implements AutoCloseable {
    /** The moelab types a candidate may use. */
    static final Set<String> API = Stream.of(Placement.class, Topology.class, LoadMatrix.class,
                    InvalidInputException.class, BalancerAlgorithm.class, BalancingRequest.class, PlacementMode.class)
            .map(Class::getName).collect(Collectors.toUnmodifiableSet());

    private final URLClassLoader loader;
    private final Set<String> candidateClasses;

    private CandidateLoader(URLClassLoader loader, Set<String> candidateClasses) {
        this.loader = loader;
        this.candidateClasses = candidateClasses;
    }

    /** Whether {@code binaryName} is one of the {@link #API} types or nested in one. */
    static boolean isAllowedApi(String binaryName) {
        int nested = binaryName.indexOf('$');
        return API.contains(nested < 0 ? binaryName : binaryName.substring(0, nested));
    }

    /** A loader over the classes in {@code classes}. */
    static CandidateLoader open(Path classes) throws IOException {
        List<String> names;
        try (Stream<Path> walk = Files.walk(classes)) {
            names = walk.filter(p -> p.getFileName().toString().endsWith(".class"))
                    .map(p -> {
                        String relative = classes.relativize(p).toString().replace(p.getFileSystem().getSeparator(),
                                ".");
                        return relative.substring(0, relative.length() - ".class".length());
                    })
                    .sorted().toList();
        }
        URLClassLoader loader = new URLClassLoader("eplb-candidate", new URL[] {classes.toUri().toURL()},
                new ApiOnlyLoader(CandidateLoader.class.getClassLoader()));
        return new CandidateLoader(loader, Set.copyOf(names));
    }

    /** Binary names of the candidate's own classes. */
    Set<String> candidateClasses() {
        return candidateClasses;
    }

    /**
     * Finds the single public, concrete class implementing {@link BalancerAlgorithm} (a top-level one wins over
     * nested ones) and instantiates it through its public no-argument constructor.
     *
     * @throws CandidateFailure {@code NO_ALGORITHM} when there is none, several, or no usable constructor;
     *                          {@code EXCEPTION} when loading or constructing it fails
     */
    BalancerAlgorithm instantiate() throws CandidateFailure {
        List<Class<?>> found = new ArrayList<>();
        for (String name : candidateClasses.stream().sorted().toList()) {
            Class<?> c;
            try {
                c = Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                throw new CandidateFailure(CandidateFailure.Kind.EXCEPTION,
                        "loading class " + name + " failed: " + Failures.describe(e, candidateClasses));
            }
            int mod = c.getModifiers();
            if (Modifier.isPublic(mod) && !Modifier.isAbstract(mod) && !c.isInterface()
                    && BalancerAlgorithm.class.isAssignableFrom(c)) {
                found.add(c);
            }
        }
        if (found.size() > 1) {
            List<Class<?>> topLevel = found.stream().filter(c -> c.getEnclosingClass() == null).toList();
            if (topLevel.size() == 1) {
                found = topLevel;
            }
        }
        if (found.size() != 1) {
            throw new CandidateFailure(CandidateFailure.Kind.NO_ALGORITHM, found.isEmpty()
                    ? "no public class implements io.moelab.eplb.algorithm.BalancerAlgorithm"
                    : "expected one public class implementing BalancerAlgorithm, found " + found.size() + ": "
                    + found.stream().map(Class::getName).collect(Collectors.joining(", ")));
        }
        Class<?> c = found.getFirst();
        Constructor<?> constructor;
        try {
            constructor = c.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new CandidateFailure(CandidateFailure.Kind.NO_ALGORITHM,
                    c.getName() + " has no public no-argument constructor");
        }
        try {
            return (BalancerAlgorithm) constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw new CandidateFailure(CandidateFailure.Kind.EXCEPTION, "constructing " + c.getName() + " threw "
                    + Failures.describe(e.getCause(), candidateClasses));
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new CandidateFailure(CandidateFailure.Kind.EXCEPTION, "constructing " + c.getName() + " failed: "
                    + Failures.describe(e, candidateClasses));
        }
    }

    @Override
    public void close() throws IOException {
        loader.close();
    }

    /**
     * Parent of the candidate's loader: {@code java.*} and {@code javax.*} from the platform, the API types
     * from the harness's own loader (so that they are the very classes the harness uses), nothing else.
     */
    private static final class ApiOnlyLoader extends ClassLoader {
        private final ClassLoader api;

        ApiOnlyLoader(ClassLoader api) {
            super("eplb-api-only", ClassLoader.getPlatformClassLoader());
            this.api = api;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (isAllowedApi(name)) {
                return api.loadClass(name);
            }
            if (name.startsWith("java.") || name.startsWith("javax.")) {
                return super.loadClass(name, resolve);
            }
            throw new ClassNotFoundException(name + " is not available to candidate programs (only java.*, javax.*"
                    + " and " + String.join(", ", API.stream().sorted().toList()) + ")");
        }
    }
}
