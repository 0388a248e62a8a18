package io.moelab.train.data;

/**
 * One document of a corpus: its domain (the file it came from, e.g. a Brown genre) and its text.
 *
 * @param domain the domain name
 * @param text   the text
 */
public record Document(String domain, String text) {}
