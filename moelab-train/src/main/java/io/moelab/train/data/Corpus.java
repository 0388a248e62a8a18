package io.moelab.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Text documents grouped by domain, split into training and validation sets by whole documents.
 *
 * <p>A file is one domain, named after the file without {@code .txt} / {@code .gz}. Its documents are its
 * blank-line-separated blocks, merged in order until each holds at least {@link #DOCUMENT_CHARS} characters, so a
 * glossary of short entries (the Jargon File) yields documents of the same order of size as a Brown text (about
 * 12,000 characters, no blank lines inside). A tenth of each domain's documents (at least one, when it has two or
 * more) is held out for validation, chosen by a fixed shuffle so that the split never depends on the run's seed.
 */
public final class Corpus {
    /** The minimum size, in characters, of a document made by merging blank-line-separated blocks. */
    public static final int DOCUMENT_CHARS = 8000;
    /** The share of each domain's documents held out for validation. */
    public static final double VALIDATION_SHARE = 0.1;

    private static final String RESOURCE_DIR = "/io/moelab/train/corpus/";
    private static final List<String> DEFAULT_FILES = List.of(
            "brown/press-reportage", "brown/press-editorial", "brown/press-reviews", "brown/religion",
            "brown/skill-hobbies", "brown/popular-lore", "brown/belles-lettres", "brown/government",
            "brown/learned", "brown/fiction-general", "brown/fiction-mystery", "brown/fiction-science",
            "brown/fiction-adventure", "brown/fiction-romance", "brown/humor", "jargon");

    private final Map<String, List<Document>> train;
    private final Map<String, List<Document>> validation;
    private final List<String> empty;

    private Corpus(Map<String, List<Document>> train, Map<String, List<Document>> validation, List<String> empty) {
        this.train = train;
        this.validation = validation;
        this.empty = empty;
    }

    /**
     * The corpus shipped in this module: the 15 Brown Corpus genres and the Jargon File (see the NOTICE file next
     * to them), 16 domains.
     */
    public static Corpus defaultCorpus() {
        Map<String, String> texts = new LinkedHashMap<>();
        for (String name : DEFAULT_FILES) {
            String resource = RESOURCE_DIR + name + ".txt.gz";
            try (InputStream in = Corpus.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("the default corpus is missing " + resource);
                }
                texts.put(name.substring(name.lastIndexOf('/') + 1), decode(new GZIPInputStream(in).readAllBytes(),
                        resource));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return fromTexts(texts);
    }

    /**
     * A corpus from text files ({@code .txt}, or gzip-compressed {@code .gz}), or directories whose {@code .txt}
     * and {@code .txt.gz} files are read in name order (hidden ones, named {@code .*}, left out). Each file is one
     * domain.
     *
     * <p>A leading UTF-8 byte order mark is dropped: it says how the file is encoded, not what it says.
     *
     * @throws CorpusException if a path does not exist, cannot be read, is not UTF-8, is larger than 2^31 - 9 bytes
     *                         (read whole into one array), a file's name gives no
     *                         domain name ({@code .txt}), two files give one domain name, or there is no text
     */
    public static Corpus fromPaths(List<Path> paths) {
        Map<String, String> texts = new LinkedHashMap<>();
        for (Path p : paths) {
            for (Path file : files(p)) {
                String domain = domainName(file);
                if (domain.isEmpty()) {
                    // Named outright (in a directory it is hidden, and left out): a domain without a name in the
                    // per-domain tables and files.
                    throw new CorpusException(file + ": names no domain (a corpus file is named DOMAIN.txt or "
                            + "DOMAIN.txt.gz)");
                }
                if (texts.containsKey(domain)) {
                    throw new CorpusException(file + ": a second file for domain '" + domain + "'");
                }
                texts.put(domain, read(file));
            }
        }
        return fromTexts(texts);
    }

    /** A corpus from texts by domain, documents split as the class describes. */
    public static Corpus fromTexts(Map<String, String> textsByDomain) {
        Map<String, List<Document>> train = new LinkedHashMap<>();
        Map<String, List<Document>> validation = new LinkedHashMap<>();
        List<String> empty = new ArrayList<>();
        textsByDomain.forEach((domain, text) -> {
            List<Document> docs = documents(domain, text);
            if (docs.isEmpty()) {
                empty.add(domain);
                return;
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < docs.size(); i++) {
                order.add(i);
            }
            Collections.shuffle(order, new Random(domain.hashCode() * 31L + docs.size()));
            int held = docs.size() < 2 ? 0 : Math.max(1, (int) Math.round(docs.size() * VALIDATION_SHARE));
            List<Integer> heldOut = order.subList(0, held);
            List<Document> tr = new ArrayList<>();
            List<Document> va = new ArrayList<>();
            for (int i = 0; i < docs.size(); i++) {
                (heldOut.contains(i) ? va : tr).add(docs.get(i));
            }
            train.put(domain, List.copyOf(tr));
            if (!va.isEmpty()) {
                validation.put(domain, List.copyOf(va));
            }
        });
        if (train.isEmpty()) {
            // The warning that names empty files comes only once training starts: the error names them instead.
            throw new CorpusException("the corpus holds no text" + (empty.isEmpty() ? ""
                    : ": every domain is empty or blank (" + String.join(", ", empty) + ")"));
        }
        return new Corpus(Collections.unmodifiableMap(train), Collections.unmodifiableMap(validation),
                List.copyOf(empty));
    }

    /**
     * A SHA-256 of every document, training and validation, with its domain, in order: two corpora that train and
     * validate alike have the same one. A checkpoint records it so that a resume on changed files is refused
     * (an exact resume needs the same batches).
     */
    public String sha256() {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        for (Map<String, List<Document>> part : List.of(train, validation)) {
            for (Map.Entry<String, List<Document>> e : part.entrySet()) {
                for (Document d : e.getValue()) {
                    // Lengths first, so that no two different sequences of strings hash the same bytes.
                    byte[] domain = e.getKey().getBytes(StandardCharsets.UTF_8);
                    byte[] text = d.text().getBytes(StandardCharsets.UTF_8);
                    digest.update(ByteBuffer.allocate(16).putLong(domain.length).putLong(text.length)
                            .array());
                    digest.update(domain);
                    digest.update(text);
                }
            }
            digest.update((byte) 0xff);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Training documents by domain, in the order the domains were given. */
    public Map<String, List<Document>> train() {
        return train;
    }

    /** The domains whose text is empty or blank, left out of training and validation, in the order given. */
    public List<String> emptyDomains() {
        return empty;
    }

    /** Held-out documents by domain; a domain with a single document has none. */
    public Map<String, List<Document>> validation() {
        return validation;
    }

    static List<Document> documents(String domain, String text) {
        List<Document> docs = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String block : text.replace("\r\n", "\n").split("\n[ \t]*\n")) {
            String b = block.strip();
            if (b.isEmpty()) {
                continue;
            }
            if (!current.isEmpty()) {
                current.append("\n\n");
            }
            current.append(b);
            if (current.length() >= DOCUMENT_CHARS) {
                docs.add(new Document(domain, current.toString()));
                current.setLength(0);
            }
        }
        if (!current.isEmpty()) {
            if (!docs.isEmpty() && current.length() < DOCUMENT_CHARS / 2) {
                Document last = docs.removeLast();
                docs.add(new Document(domain, last.text() + "\n\n" + current));
            } else {
                docs.add(new Document(domain, current.toString()));
            }
        }
        return docs;
    }

    private static List<Path> files(Path p) {
        if (Files.isRegularFile(p)) {
            return List.of(p);
        }
        if (Files.exists(p) && !Files.isDirectory(p)) {
            // A device, a named pipe, a shell's <(...): it exists, so "no such file" would send the user looking
            // for a typing error.
            throw new CorpusException(p + ": not a regular file or a directory (a corpus is text files and "
                    + "directories of them)");
        }
        if (!Files.isDirectory(p)) {
            throw new CorpusException(p + ": no such file or directory");
        }
        try (Stream<Path> s = Files.list(p)) {
            // Hidden files (an editor's backup, ._ files a Mac leaves on shared drives) are nobody's domain.
            List<Path> found = s.filter(f -> Files.isRegularFile(f) && !f.getFileName().toString().startsWith(".")
                            && (f.toString().endsWith(".txt") || f.toString().endsWith(".txt.gz")))
                    .sorted().toList();
            if (found.isEmpty()) {
                throw new CorpusException(p + ": no .txt or .txt.gz files");
            }
            return found;
        } catch (IOException e) {
            throw new CorpusException(p + ": cannot list: " + reason(e));
        }
    }

    private static String domainName(Path file) {
        String n = file.getFileName().toString();
        if (n.endsWith(".gz")) {
            n = n.substring(0, n.length() - 3);
        }
        if (n.endsWith(".txt")) {
            n = n.substring(0, n.length() - 4);
        }
        return n;
    }

    /** The most bytes one file's text is read into: the largest array the JVM allocates. */
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private static String read(Path file) {
        String text = read(file, MAX_FILE_BYTES);
        // A byte order mark (Windows Notepad saves UTF-8 with one) marks the encoding and is no text: kept, it was
        // trained on as three bytes at the start of the domain and written into its held-out text.
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** {@link #read(Path)} with at most {@code limit} bytes of text ({@code limit} below the largest int; tests). */
    static String read(Path file, long limit) {
        try (InputStream raw = Files.newInputStream(file)) {
            long size = Files.size(file);
            if (size > limit) {
                // Read whole into one array: past it the JVM threw an OutOfMemoryError, reported as a heap too small.
                throw new CorpusException(file + ": too large (" + size + " bytes; a corpus file holds at most "
                        + limit + ")");
            }
            if (!file.toString().endsWith(".gz")) {
                return decode(raw.readAllBytes(), file.toString());
            }
            // A small .gz can expand past one array: read one byte more than the limit, and refuse it if that came.
            byte[] text = new GZIPInputStream(raw).readNBytes((int) limit + 1);
            if (text.length > limit) {
                throw new CorpusException(file + ": too large (more than " + limit + " bytes of text once "
                        + "decompressed; a corpus file holds at most " + limit + ")");
            }
            return decode(text, file.toString());
        } catch (IOException e) {
            throw new CorpusException(file + ": cannot read: " + reason(e));
        }
    }

    /**
     * Why reading failed, in words: the file system's reason where it gave one, else what the exception's type means
     * (a {@code NoSuchFileException}'s or {@code AccessDeniedException}'s message is the bare path, already named),
     * else the message of an exception not the file system's (a {@code .gz} that is not gzip). As moelab-eplb's
     * {@code AtomicFiles.reason} words it; this module does not depend on that one.
     */
    static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            return f.getReason() != null ? f.getReason() : switch (f) {
                case NoSuchFileException n -> "no such file or directory";
                case AccessDeniedException a -> "access denied";
                case NotDirectoryException d -> "not a directory";
                default -> f.getClass().getSimpleName();
            };
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replaceAll("\\s+", " ").strip();
    }

    private static String decode(byte[] bytes, String where) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CorpusException(where + ": not UTF-8 text");
        }
    }

    /** A corpus that cannot be read; the message names the file. */
    public static final class CorpusException extends RuntimeException {
        /**
         * Reports an unreadable corpus.
         *
         * @param message what is wrong, naming the file
         */
        public CorpusException(String message) {
            super(message);
        }
    }
}
