package io.moelab.evolve.edit;

/** How loosely a SEARCH text had to be compared with the program to match; tried in declaration order. */
public enum MatchKind {
    /** The lines are equal as written. */
    EXACT,
    /** Equal after dropping trailing whitespace of every line and blank lines at the ends of the SEARCH. */
    WHITESPACE,
    /** Equal after dropping leading and trailing whitespace of every line; the REPLACE text is re-indented. */
    INDENTATION
}
