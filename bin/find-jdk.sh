# Finds a JDK 25 or newer and exports JAVA_HOME to it. Sourced (POSIX sh) by bin/moelab and ./mvnw, so
# both work on machines whose default `java` is older: JAVA_HOME wins if it is new enough, then the newest
# JDK under /usr/lib/jvm (or the directories in MOELAB_JVM_DIRS, space-separated), then the `java` on PATH.

MOELAB_MIN_JAVA=25

# Prints the feature version (25 for 25.0.3, 8 for 1.8.0) of the JDK at $1, or nothing.
moelab_jdk_feature() {
  _mj_v=
  if [ -r "$1/release" ]; then
    _mj_v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release")
  elif [ -x "$1/bin/java" ]; then
    _mj_v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  _mj_v=${_mj_v#1.}
  _mj_v=${_mj_v%%[!0-9]*}
  printf '%s\n' "$_mj_v"
}

# True when $1 is a JDK (java and javac present) of at least MOELAB_MIN_JAVA.
moelab_is_new_jdk() {
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  _mj_f=$(moelab_jdk_feature "$1")
  [ -n "$_mj_f" ] && [ "$_mj_f" -ge "$MOELAB_MIN_JAVA" ]
}

moelab_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && moelab_is_new_jdk "$JAVA_HOME"; then
    export JAVA_HOME
    return 0
  fi
  _mj_best= _mj_best_f=0
  # mvnw runs with `set -f`; globbing is needed here only.
  case $- in *f*) _mj_noglob=1; set +f ;; *) _mj_noglob= ;; esac
  for _mj_root in ${MOELAB_JVM_DIRS:-/usr/lib/jvm}; do
    for _mj_dir in "$_mj_root"/*; do
      if moelab_is_new_jdk "$_mj_dir"; then
        _mj_f=$(moelab_jdk_feature "$_mj_dir")
        if [ "$_mj_f" -gt "$_mj_best_f" ]; then _mj_best=$_mj_dir _mj_best_f=$_mj_f; fi
      fi
    done
  done
  [ -z "$_mj_noglob" ] || set -f
  if [ -z "$_mj_best" ] && command -v java >/dev/null 2>&1; then
    _mj_dir=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if moelab_is_new_jdk "$_mj_dir"; then _mj_best=$_mj_dir; fi
  fi
  if [ -z "$_mj_best" ]; then
    echo "error: moelab needs JDK $MOELAB_MIN_JAVA or newer and found none in JAVA_HOME, ${MOELAB_JVM_DIRS:-/usr/lib/jvm} or PATH; install one (e.g. 'apt install openjdk-25-jdk', or Temurin 25 from https://adoptium.net) or point JAVA_HOME at it" >&2
    return 1
  fi
  JAVA_HOME=$_mj_best
  export JAVA_HOME
}
