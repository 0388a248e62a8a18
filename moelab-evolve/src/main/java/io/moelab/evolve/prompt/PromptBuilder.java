package io.moelab.evolve.prompt;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.database.Attempt;
import io.moelab.evolve.database.Program;
import io.moelab.evolve.database.Sample;
import io.moelab.evolve.edit.EditException;
import io.moelab.evolve.edit.EvolveBlocks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds each iteration's prompt from templates: the parent with its metrics, the island's recent attempts
 * with their outcomes (improved, regressed, failed with the evaluator's error, or edits that did not apply
 * and why), its best programs and inspirations (other programs of the island). Other programs are shown
 * by their EVOLVE-BLOCK regions only when the program has markers: the rest is the same in every program and
 * would only cost tokens.
 * Templates use {@code {name}} placeholders; unknown braces (code) are left alone.
 */
public final class PromptBuilder {
    private final PromptSettings settings;
    private final String systemTemplate;
    /** Whether {@link #systemTemplate} is the user's own file, which outranks the task's system message. */
    private final boolean ownSystem;
    private final String diffTemplate;
    private final String rewriteTemplate;

    /**
     * A builder with the built-in templates, each replaced by a file of the same name in the settings'
     * template directory when there is one.
     *
     * @throws InvalidInputException if the template directory does not exist
     */
    public PromptBuilder(PromptSettings settings) {
        this.settings = settings;
        Path dir = settings.templateDir();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new InvalidInputException("prompt.template_dir", dir + " is not a directory");
        }
        if (dir != null && Files.exists(dir.resolve("system_message.txt"))) {
            // OpenEvolve's name: the file was ignored without a word.
            throw new InvalidInputException(dir.resolve("system_message.txt").toString(), "OpenEvolve's name for "
                    + "the system template, which moelab does not read: name it system.txt");
        }
        this.systemTemplate = template(dir, "system.txt");
        this.ownSystem = dir != null && Files.isRegularFile(dir.resolve("system.txt"));
        this.diffTemplate = template(dir, "diff_user.txt");
        this.rewriteTemplate = template(dir, "full_rewrite_user.txt");
    }

    /**
     * The prompt for one iteration.
     *
     * @param sample        parent and context
     * @param language      the code fence language (java, python, ...)
     * @param fitnessMetric the name of the fitness, for the instructions
     * @param taskSystem    the task's system message (used unless the settings give one or the template
     *                      directory holds a {@code system.txt})
     * @param diff          SEARCH/REPLACE answers rather than full rewrites
     * @param fitnessOf     the fitness of a program, to describe attempts
     */
    public Prompt build(Sample sample, String language, String fitnessMetric, String taskSystem, boolean diff,
                        java.util.function.ToDoubleFunction<Program> fitnessOf) {
        Program parent = sample.parent();
        boolean marked = !regions(parent.code()).isEmpty();
        Map<String, String> values = new LinkedHashMap<>();
        values.put("metrics", metrics(parent));
        values.put("evaluator_feedback", settings.includeArtifacts() && !parent.feedback().isBlank()
                ? "Evaluator feedback:\n" + cut(parent.feedback()) + "\n" : "");
        values.put("language", language);
        values.put("program", parent.code());
        values.put("previous_attempts", attempts(sample.attempts()));
        values.put("top_programs", programs(sample.topPrograms(), language, marked, "Program"));
        // Each program is shown once (duplicates took a third of a prompt), the parent only as itself: the database
        // draws inspirations from the programs not shown otherwise, and a sample built elsewhere may not.
        java.util.Set<String> shown = new java.util.HashSet<>();
        shown.add(parent.id());
        sample.topPrograms().forEach(p -> shown.add(p.id()));
        List<Program> inspirations = sample.inspirations().stream().filter(p -> !shown.contains(p.id())).toList();
        values.put("inspirations", inspirations.isEmpty() && (!sample.inspirations().isEmpty()
                || !sample.topPrograms().isEmpty())
                ? "(none besides the programs above)" : programs(inspirations, language, marked, "Inspiration"));
        values.put("fitness_metric", fitnessMetric);
        values.put("evolve_note", marked
                ? "Change only the code between the EVOLVE-BLOCK-START and EVOLVE-BLOCK-END markers; keep the"
                        + " markers." : "");
        // The user's own system.txt comes before the task's message: it was silently ignored for every task that
        // has one (the EPLB task among them).
        String system = settings.systemMessage() != null ? settings.systemMessage()
                : !ownSystem && taskSystem != null && !taskSystem.isBlank() ? taskSystem : systemTemplate;
        return new Prompt(fill(system, values), fill(diff ? diffTemplate : rewriteTemplate, values));
    }

    private String attempts(List<Attempt> all) {
        List<Attempt> shown = all.subList(0, Math.min(settings.numPreviousAttempts(), all.size()));
        if (shown.isEmpty()) {
            return "(none yet)";
        }
        StringBuilder sb = new StringBuilder();
        for (Attempt a : shown) {
            sb.append("- iteration ").append(a.iteration()).append(" (edited program ").append(a.parentId())
                    .append("): ").append(switch (a.outcome()) {
                        case IMPROVED, UNCHANGED, REGRESSED -> a.outcome().name().toLowerCase(Locale.ROOT)
                                + ", fitness " + change(a.parentFitness(), a.fitness());
                        case FAILED -> "failed";
                        case NO_EDIT -> "no edit applied";
                        case LLM_ERROR -> "the model could not be called";
                    });
            // What it tried, as OpenEvolve's "Changes" line: else the model could only guess from the outcome.
            if (a.changes() != null && !a.changes().isBlank()) {
                sb.append("\n  Changes: ").append(a.changes());
            }
            if (settings.includeArtifacts() && a.summary() != null && !a.summary().isBlank()) {
                sb.append("\n  ").append(cut(a.summary()).replace("\n", "\n  "));
            }
            sb.append('\n');
        }
        return sb.toString().stripTrailing();
    }

    private String programs(List<Program> list, String language, boolean marked, String label) {
        if (list.isEmpty()) {
            return "(none yet)";
        }
        StringBuilder sb = new StringBuilder();
        for (Program p : list) {
            sb.append("## ").append(label).append(' ').append(p.id()).append(" (").append(metrics(p)).append(")\n");
            // A program without (well-formed) markers is shown whole rather than as nothing.
            boolean own = marked && !regions(p.code()).isEmpty();
            sb.append("```").append(language).append('\n').append(own ? evolveRegions(p.code()) : p.code());
            if (!sb.toString().endsWith("\n")) {
                sb.append('\n');
            }
            sb.append("```\n\n");
        }
        return sb.toString().stripTrailing();
    }

    /**
     * The EVOLVE-BLOCK regions of a program; none when its markers are malformed (a valid program may carry an
     * unmatched marker a model wrote, and its prompt must still be built).
     */
    private static List<int[]> regions(String code) {
        try {
            return EvolveBlocks.regions(code);
        } catch (EditException e) {
            return List.of();
        }
    }

    /**
     * The text inside the EVOLVE-BLOCK markers, regions separated by an elision line, a comment as the markers
     * write one: always {@code //}, it was no comment in Python or shell programs, and a model copied it as code.
     */
    static String evolveRegions(String code) {
        List<String> lines = code.lines().toList();
        StringBuilder sb = new StringBuilder();
        for (int[] r : regions(code)) {
            if (!sb.isEmpty()) {
                String marker = lines.get(r[0] - 1);
                String comment = marker.substring(0, marker.indexOf(EvolveBlocks.START)).strip();
                sb.append('\n').append(comment.isEmpty() ? "" : comment + " ")
                        .append("... (unchanged code outside the evolve blocks) ...\n");
            }
            sb.append(String.join("\n", lines.subList(r[0], Math.min(r[1], lines.size()))));
        }
        return sb.toString();
    }

    static String metrics(Program p) {
        if (p.metrics().isEmpty()) {
            return "no metrics";
        }
        List<String> parts = new ArrayList<>();
        p.metrics().forEach((k, v) -> parts.add(k + "=" + number(v)));
        return String.join(", ", parts);
    }

    static String number(double v) {
        return number(v, 0);
    }

    /**
     * {@code from -> to}, with as many more digits as make two different values read differently: an improvement
     * from 63.5589 to 63.5612 read "improved, fitness 63.56 -> 63.56".
     */
    static String change(double from, double to) {
        for (int extra = 0; ; extra++) {
            String a = number(from, extra);
            String b = number(to, extra);
            if (!a.equals(b) || from == to || extra == 13 || !Double.isFinite(from) || !Double.isFinite(to)) {
                return a + " -> " + b;
            }
        }
    }

    /** {@link #number(double)} with {@code extra} more digits. */
    private static String number(double v, int extra) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        // Fixed-point from 1000 up to 15 digits; past them a double's digits are noise (1e300 took 301 characters).
        double a = Math.abs(v);
        String text = String.format(Locale.ROOT, a >= 1000 && a < 1e15 ? "%." + (1 + extra) + "f"
                : "%." + (4 + extra) + "g", v);
        // Trailing zeros go from the decimals, also from a mantissa (1.000e-05 reads 1e-05).
        return text.replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replaceAll("\\.(e|$)", "$1");
    }

    /** The end of a long text (errors are most useful at their end), with a note of what was cut. */
    private String cut(String text) {
        return TextTail.of(text.strip(), settings.maxArtifactChars());
    }

    /** One pass over the template, so that inserted text (code) is never scanned for placeholders again. */
    static String fill(String template, Map<String, String> values) {
        java.util.regex.Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(value != null ? value : m.group()));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static final java.util.regex.Pattern PLACEHOLDER = java.util.regex.Pattern.compile("\\{([a-z_]+)}");

    /**
     * Placeholders of OpenEvolve's templates and what moelab names them (its evolution history is three here). A
     * template from an OpenEvolve setup kept them as text: every prompt went out without the program.
     */
    private static final Map<String, String> OPENEVOLVE_PLACEHOLDERS = Map.of(
            "current_program", "{program}",
            "artifacts", "{evaluator_feedback}",
            "evolution_history", "{previous_attempts}, {top_programs} and {inspirations}",
            "improvement_areas", "{previous_attempts}");

    private static String template(Path dir, String name) {
        if (dir != null && Files.isRegularFile(dir.resolve(name))) {
            Path file = dir.resolve(name);
            try {
                String text = Files.readString(file, StandardCharsets.UTF_8);
                java.util.regex.Matcher m = PLACEHOLDER.matcher(text);
                while (m.find()) {
                    String ours = OPENEVOLVE_PLACEHOLDERS.get(m.group(1));
                    if (ours != null) {
                        throw new InvalidInputException(file.toString(), m.group() + " is OpenEvolve's placeholder, "
                                + "which moelab does not fill: use " + ours);
                    }
                }
                return text;
            } catch (IOException e) {
                // The user's file: bad input named as such (a decoding error ended the command as an internal one).
                throw new InvalidInputException(file.toString(), "cannot read: " + (e instanceof
                        java.nio.charset.CharacterCodingException ? "not UTF-8 text" : e.getMessage()));
            }
        }
        try (InputStream in = PromptBuilder.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("built-in template missing: " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
