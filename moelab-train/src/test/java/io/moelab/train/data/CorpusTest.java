package io.moelab.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CorpusTest {
    @TempDir
    Path dir;

    /**
     * A file the corpus could not read or list was reported as "X: cannot read: /abs/X": a NoSuchFileException's or
     * AccessDeniedException's message is the bare path. The reason is the file system's where it gave one, else what
     * the exception's type means, else the message of an exception that is not the file system's (a .gz that is
     * not gzip). As root a chmod 000 file reads, so the formatting is tested directly.
     */
    @Test
    void aReadFailureSaysWhyNotThePathAgain() {
        Path f = dir.resolve("a.txt");
        assertThat(Corpus.reason(new java.nio.file.NoSuchFileException(f.toString())))
                .isEqualTo("no such file or directory");
        assertThat(Corpus.reason(new java.nio.file.AccessDeniedException(f.toString()))).isEqualTo("access denied");
        assertThat(Corpus.reason(new java.nio.file.NotDirectoryException(f.toString()))).isEqualTo("not a directory");
        assertThat(Corpus.reason(new java.nio.file.FileSystemException(f.toString(), null, "Input/output error")))
                .isEqualTo("Input/output error");
        assertThat(Corpus.reason(new java.nio.file.FileSystemException(f.toString())))
                .isEqualTo("FileSystemException");
        assertThat(Corpus.reason(new java.util.zip.ZipException("Not in GZIP format"))).isEqualTo("Not in GZIP format");
        assertThat(Corpus.reason(new java.io.IOException())).isEqualTo("IOException");
    }

    /**
     * A text file past one array (2^31 - 9 bytes) failed with an OutOfMemoryError, which train reported as "out of
     * memory ... give it more with MOELAB_JAVA_OPTS=-Xmx": no heap reads it. It is refused by name and size, before
     * reading (the file is sparse: nothing is written or read).
     */
    @Test
    void aTextFilePastOneArrayIsRefusedBeforeReading() throws Exception {
        Path f = dir.resolve("big.txt");
        try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(Integer.MAX_VALUE - 7L);
        }
        assertThatThrownBy(() -> Corpus.fromPaths(List.of(f)))
                .isInstanceOf(Corpus.CorpusException.class)
                .hasMessage(f + ": too large (2147483640 bytes; a corpus file holds at most 2147483639)");
        // Exactly at a limit is read; a byte past it is refused (shown with a limit of 100 bytes).
        Path at = java.nio.file.Files.writeString(dir.resolve("at.txt"), "b".repeat(100));
        assertThat(Corpus.read(at, 100)).isEqualTo("b".repeat(100));
        assertThatThrownBy(() -> Corpus.read(at, 99)).isInstanceOf(Corpus.CorpusException.class)
                .hasMessage(at + ": too large (100 bytes; a corpus file holds at most 99)");
    }

    /**
     * A .gz that expands past the limit is refused by name once it has read one byte more, not after an
     * OutOfMemoryError (2 GB of zeros compress to 2 MB); shown with a limit of 100 bytes, exactly at and past it.
     */
    @Test
    void aGzipThatExpandsPastTheLimitIsRefused() throws Exception {
        Path at = gzip(dir.resolve("at.txt.gz"), "a".repeat(100));
        Path past = gzip(dir.resolve("past.txt.gz"), "a".repeat(101));
        assertThat(Corpus.read(at, 100)).isEqualTo("a".repeat(100));
        assertThatThrownBy(() -> Corpus.read(past, 100))
                .isInstanceOf(Corpus.CorpusException.class)
                .hasMessage(past + ": too large (more than 100 bytes of text once decompressed; a corpus file holds "
                        + "at most 100)");
    }

    private static Path gzip(Path file, String text) throws Exception {
        try (var out = new java.util.zip.GZIPOutputStream(java.nio.file.Files.newOutputStream(file))) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return file;
    }

    /** A .gz that is not gzip says so, not only "cannot read". */
    @Test
    void aGzFileThatIsNotGzipSaysSo() throws Exception {
        Path f = Files.writeString(dir.resolve("plain.txt.gz"), "not gzip at all\n");
        assertThatThrownBy(() -> Corpus.fromPaths(List.of(f)))
                .isInstanceOf(Corpus.CorpusException.class)
                .hasMessage(f + ": cannot read: Not in GZIP format");
    }

    /**
     * A corpus of empty or blank files said only "the corpus holds no text"; the warning naming them comes once
     * training starts, which it never did. The error names them.
     */
    @Test
    void aCorpusOfEmptyFilesNamesThem() throws Exception {
        Path d = Files.createDirectories(dir.resolve("empties"));
        Files.writeString(d.resolve("a.txt"), "");
        Files.writeString(d.resolve("b.txt"), "\n  \n\t\n");
        assertThatThrownBy(() -> Corpus.fromPaths(List.of(d)))
                .isInstanceOf(Corpus.CorpusException.class)
                .hasMessage("the corpus holds no text: every domain is empty or blank (a, b)");
    }

    @Test
    void shortBlocksMergeIntoDocumentsOfAtLeastTheMinimumSize() {
        String block = "x".repeat(3000);
        List<Document> docs = Corpus.documents("d", String.join("\n\n", List.of(block, block, block, block, block)));
        // 3000 + 2 + 3000 + 2 + 3000 >= 8000 closes the first document; the remaining two make the second.
        assertThat(docs).hasSize(2);
        assertThat(docs.get(0).text()).hasSize(9004);
        assertThat(docs.get(1).text()).hasSize(6002);
    }

    @Test
    void emptyAndBlankDomainsAreLeftOutAndNamed() {
        String block = "x".repeat(Corpus.DOCUMENT_CHARS);
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("blank", " \n\n\t\n");
        texts.put("text", block + "\n\n" + block);
        texts.put("empty", "");
        Corpus c = Corpus.fromTexts(texts);
        assertThat(c.train()).containsOnlyKeys("text");
        assertThat(c.emptyDomains()).containsExactly("blank", "empty");
    }

    @Test
    void aShortTailJoinsThePreviousDocument() {
        String big = "y".repeat(9000);
        List<Document> docs = Corpus.documents("d", big + "\n\n" + "tail");
        assertThat(docs).hasSize(1);
        assertThat(docs.get(0).text()).endsWith("\n\ntail");
    }

    @Test
    void holdsOutATenthOfEachDomainByWholeDocuments() {
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("a", docs(20, 'a'));
        texts.put("b", docs(3, 'b'));
        texts.put("single", docs(1, 's'));
        Corpus c = Corpus.fromTexts(texts);
        assertThat(c.train().get("a")).hasSize(18);
        assertThat(c.validation().get("a")).hasSize(2);
        assertThat(c.train().get("b")).hasSize(2);
        assertThat(c.validation().get("b")).hasSize(1);
        assertThat(c.train().get("single")).hasSize(1);
        assertThat(c.validation()).doesNotContainKey("single");
        // The split is a function of the texts: the same again.
        assertThat(Corpus.fromTexts(texts).validation().get("a")).isEqualTo(c.validation().get("a"));
        assertThat(c.train().get("a")).doesNotContainAnyElementsOf(c.validation().get("a"));
    }

    @Test
    void theDefaultCorpusHasSixteenDomains() {
        Corpus c = Corpus.defaultCorpus();
        assertThat(c.train()).hasSize(16).containsKeys("press-reportage", "humor", "jargon");
        assertThat(c.validation()).hasSize(16);
        assertThat(c.train().get("jargon").size()).isGreaterThan(100);
    }

    @Test
    void readsFilesAndDirectoriesOneDomainPerFile() throws Exception {
        Files.writeString(dir.resolve("one.txt"), docs(4, 'o'));
        Path sub = Files.createDirectory(dir.resolve("more"));
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(sub.resolve("two.txt.gz")))) {
            out.write(docs(4, 't').getBytes(StandardCharsets.UTF_8));
        }
        Files.writeString(sub.resolve("ignored.md"), "not text");
        // Hidden files in a directory are no domain (a Mac's ._two.txt beside two.txt became domain "._two").
        Files.writeString(sub.resolve("._two.txt"), docs(4, 'x'));
        Corpus c = Corpus.fromPaths(List.of(dir.resolve("one.txt"), sub));
        assertThat(c.train()).containsOnlyKeys("one", "two");
    }

    @Test
    void badInputNamesTheFile() throws Exception {
        assertThatThrownBy(() -> Corpus.fromPaths(List.of(dir.resolve("missing.txt"))))
                .isInstanceOf(Corpus.CorpusException.class)
                .hasMessage(dir.resolve("missing.txt") + ": no such file or directory");
        // A device, a named pipe or a shell's <(...) exists: "no such file or directory" sent the user looking for a
        // typing error.
        Path device = Path.of("/dev/null");
        if (Files.exists(device)) {
            assertThatThrownBy(() -> Corpus.fromPaths(List.of(device))).isInstanceOf(Corpus.CorpusException.class)
                    .hasMessage("/dev/null: not a regular file or a directory (a corpus is text files and directories "
                            + "of them)");
        }
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {'o', 'k', (byte) 0xC3, (byte) 0x28});
        assertThatThrownBy(() -> Corpus.fromPaths(List.of(bad)))
                .isInstanceOf(Corpus.CorpusException.class).hasMessageContaining("bad.txt")
                .hasMessageContaining("UTF-8");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\n\n  \n");
        assertThatThrownBy(() -> Corpus.fromPaths(List.of(empty)))
                .isInstanceOf(Corpus.CorpusException.class).hasMessageContaining("no text");
        // Named outright, a file called .txt became a domain with an empty name; in a directory it is hidden.
        for (String name : List.of(".txt", ".txt.gz", ".gz")) {
            Path nameless = Files.writeString(dir.resolve(name), docs(2, 'n'));
            assertThatThrownBy(() -> Corpus.fromPaths(List.of(nameless))).isInstanceOf(Corpus.CorpusException.class)
                    .hasMessage(nameless + ": names no domain (a corpus file is named DOMAIN.txt or DOMAIN.txt.gz)");
        }
    }

    private static String docs(int n, char c) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(String.valueOf(c).repeat(Corpus.DOCUMENT_CHARS)).append(i).append("\n\n");
        }
        return sb.toString();
    }

    /**
     * A UTF-8 byte order mark, as Windows Notepad saves one, is no text: it was kept as U+FEFF at the start of the
     * domain's first document, trained on as three bytes (EF BB BF) and, held out, written into the validation text.
     */
    @Test
    void aLeadingByteOrderMarkIsNotText() throws Exception {
        String text = docs(3, 'm');
        Files.writeString(dir.resolve("plain.txt"), text);
        Files.writeString(dir.resolve("marked.txt"), "\uFEFF" + text);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("zipped.txt.gz")))) {
            out.write(("\uFEFF" + text).getBytes(StandardCharsets.UTF_8));
        }
        String plain = Corpus.fromPaths(List.of(dir.resolve("plain.txt"))).sha256();
        for (String name : List.of("marked.txt", "zipped.txt.gz")) {
            Corpus c = Corpus.fromPaths(List.of(dir.resolve(name)));
            String domain = name.substring(0, name.indexOf('.'));
            List<Document> all = new java.util.ArrayList<>(c.train().get(domain));
            all.addAll(c.validation().get(domain));
            assertThat(all).as(name).allSatisfy(d -> assertThat(d.text()).doesNotContain("\uFEFF"));
            // The same documents as the file without the mark.
            assertThat(c.sha256()).as(name).isEqualTo(Corpus.fromTexts(Map.of(domain, text)).sha256());
        }
        assertThat(plain).isEqualTo(Corpus.fromTexts(Map.of("plain", text)).sha256());
        // Only a leading mark: one inside the text is a character of it (a zero-width no-break space).
        Files.writeString(dir.resolve("inner.txt"), "a\uFEFFb" + text);
        Corpus inner = Corpus.fromPaths(List.of(dir.resolve("inner.txt")));
        assertThat(Corpus.fromTexts(Map.of("inner", "a\uFEFFb" + text)).sha256()).isEqualTo(inner.sha256());
    }

    /** The fingerprint a checkpoint keeps: equal for equal text, different for a changed byte or a renamed domain. */
    @Test
    void sha256FollowsTheTextAndTheDomains() {
        String block = "y".repeat(Corpus.DOCUMENT_CHARS);
        String a = Corpus.fromTexts(Map.of("a", block + "\n\n" + block)).sha256();
        assertThat(Corpus.fromTexts(Map.of("a", block + "\n\n" + block)).sha256()).isEqualTo(a)
                .hasSize(64);
        assertThat(Corpus.fromTexts(Map.of("a", block + "\n\n" + block + "z")).sha256()).isNotEqualTo(a);
        assertThat(Corpus.fromTexts(Map.of("b", block + "\n\n" + block)).sha256()).isNotEqualTo(a);
    }

    /**
     * The merge's two thresholds at their edges: blocks of 3,999 characters close a document at exactly 8,000
     * (3,999 + 2 + 3,999), and a tail of exactly half of that stands alone while one character less joins the
     * document before it.
     */
    @Test
    void aDocumentClosesAtExactlyTheMinimumAndATailOfHalfItStandsAlone() {
        String a = "a".repeat(3999);
        assertThat(Corpus.documents("d", a + "\n\n" + a)).extracting(Document::text)
                .containsExactly(a + "\n\n" + a);
        String big = "b".repeat(Corpus.DOCUMENT_CHARS);
        String half = "h".repeat(Corpus.DOCUMENT_CHARS / 2);
        assertThat(Corpus.documents("d", big + "\n\n" + half)).extracting(Document::text)
                .containsExactly(big, half);
        String less = half.substring(1);
        assertThat(Corpus.documents("d", big + "\n\n" + less)).extracting(Document::text)
                .containsExactly(big + "\n\n" + less);
        assertThat(Corpus.documents("d", less)).extracting(Document::text).containsExactly(less);
        assertThat(Corpus.documents("d", big + "\n\n" + big)).allSatisfy(doc -> assertThat(doc.domain())
                .isEqualTo("d")).hasSize(2);
    }

    /**
     * Blocks are separated by a line that is empty or holds only spaces and tabs, with Unix or Windows line ends; a
     * block's surrounding whitespace is dropped and merged blocks are joined by one blank line. A line holding
     * anything else separates nothing.
     */
    @Test
    void blankLinesOfSpacesTabsOrWindowsLineEndsSeparateBlocks() {
        String text = "  one\r\n\r\ntwo\n \t \nthree\n\n\n\nfour\n.\nstill four\r\n";
        assertThat(Corpus.documents("d", text)).extracting(Document::text)
                .containsExactly("one\n\ntwo\n\nthree\n\nfour\n.\nstill four");
        // One block per document, each long enough alone: four documents, so the separators are where they seem.
        String x = "x".repeat(Corpus.DOCUMENT_CHARS);
        assertThat(Corpus.documents("d", x + "\r\n\r\n" + x + "\n\t\n" + x + "\n \n" + x + "\n-\n" + x))
                .extracting(Document::text).containsExactly(x, x, x, x + "\n-\n" + x);
    }

    /**
     * How many documents a domain holds out: a tenth, rounded half up, and at least one from two documents on
     * (n = 2: 1, 14: 1, 15: 2, 25: 3).
     */
    @Test
    void aTenthRoundedHalfUpIsHeldOutAndAtLeastOne() {
        for (int[] c : new int[][] {{2, 1}, {5, 1}, {14, 1}, {15, 2}, {24, 2}, {25, 3}}) {
            Corpus corpus = Corpus.fromTexts(Map.of("d", docs(c[0], 'q')));
            assertThat(corpus.validation().get("d")).as("%d documents", c[0]).hasSize(c[1]);
            assertThat(corpus.train().get("d")).hasSize(c[0] - c[1]);
        }
    }

    /**
     * Which documents are held out is fixed: a shuffle seeded by the domain's name and its number of documents. A
     * change would change every corpus's SHA-256, which a resume checks against its checkpoint: every saved run would
     * be refused, and the validation texts would no longer be the ones earlier runs reported on. Pinned here.
     */
    @Test
    void theHeldOutDocumentsAreFixed() {
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("a", docs(20, 'a'));
        texts.put("brown", docs(12, 'b'));
        Corpus c = Corpus.fromTexts(texts);
        assertThat(c.validation().get("a")).extracting(d -> d.text().substring(Corpus.DOCUMENT_CHARS))
                .containsExactly(HELD_A);
        assertThat(c.validation().get("brown")).extracting(d -> d.text().substring(Corpus.DOCUMENT_CHARS))
                .containsExactly(HELD_BROWN);
        // The training documents keep their order.
        List<String> train = c.train().get("a").stream().map(d -> d.text().substring(Corpus.DOCUMENT_CHARS)).toList();
        assertThat(train).isSortedAccordingTo(java.util.Comparator.comparingInt(Integer::parseInt)).hasSize(18);
    }

    private static final String[] HELD_A = {"10", "15"};
    private static final String[] HELD_BROWN = {"8"};

    /** The fingerprint hashes each document's length with it: "ab" + "c" and "a" + "bc" differ. */
    @Test
    void sha256TellsWhereTheDomainNameEndsAndTheTextBegins() {
        assertThat(Corpus.fromTexts(Map.of("ab", "c")).sha256())
                .isNotEqualTo(Corpus.fromTexts(Map.of("a", "bc")).sha256());
        // Known value: SHA-256 over (8-byte domain length, 8-byte text length, domain, text) per document, then 0xff
        // after the training part and after the (empty) validation part.
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16 + 1 + 2);
        b.putLong(1).putLong(2).put("a".getBytes(StandardCharsets.UTF_8)).put("bc".getBytes(StandardCharsets.UTF_8));
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(b.array());
            md.update((byte) 0xff);
            md.update((byte) 0xff);
            assertThat(Corpus.fromTexts(Map.of("a", "bc")).sha256())
                    .isEqualTo(java.util.HexFormat.of().formatHex(md.digest()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** A directory's files are domains in name order, whatever order the file system lists them in. */
    @Test
    void aDirectorysFilesAreDomainsInNameOrder() throws Exception {
        for (String name : List.of("m.txt", "b.txt", "z.txt.gz", "a.txt")) {
            Path f = dir.resolve(name);
            if (name.endsWith(".gz")) {
                try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
                    out.write("zed".getBytes(StandardCharsets.UTF_8));
                }
            } else {
                Files.writeString(f, name);
            }
        }
        Corpus c = Corpus.fromPaths(List.of(dir));
        assertThat(c.train().keySet()).containsExactly("a", "b", "m", "z");
        assertThat(c.train().get("z")).containsExactly(new Document("z", "zed"));
        assertThat(c.train().get("m")).containsExactly(new Document("m", "m.txt"));
    }
}
