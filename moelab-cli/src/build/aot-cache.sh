#!/usr/bin/env bash
# Makes moelab-cli/target/aot/moelab.aot, the AOT cache bin/moelab starts the JVM from (JEP 483: classes loaded
# and linked ahead of time; JEP 515: method profiles), from one training run of bin/moelab: 'eplb rebalance' on
# a small input (aot-training-loads.json). Run by './mvnw package' (moelab-cli's pom.xml) after the jars, with the
# JDK that runs Maven; everything it writes stays in target/aot. It never fails the build: without a cache
# bin/moelab starts as before, only slower; target/aot/training.log says why there is none.
# Usage: aot-cache.sh JAVA_HOME TARGET_DIR
set -u
java_home=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
out="$2/aot"
rm -rf "$out"
mkdir -p "$out" && cd "$out" || exit 0

# The launch is bin/moelab's own, so the cache is made for exactly the options it runs with; MOELAB_JAVA_OPTS adds
# the AOT ones (and keeps bin/moelab from passing an old cache). Paths are relative to target/aot, the current
# directory, since MOELAB_JAVA_OPTS is split at spaces. Options of the user's environment stay out of the cache.
train() {
  env -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS JAVA_HOME="$java_home" MOELAB_JAVA_OPTS="$1" "$root/bin/moelab" \
    eplb rebalance --input "$here/aot-training-loads.json" --output training-placement.json >>training.log 2>&1
}
tmp=moelab.aot.$$
if train "-XX:AOTMode=record -XX:AOTConfiguration=training.aotconf" \
    && train "-XX:AOTMode=create -XX:AOTConfiguration=training.aotconf -XX:AOTCache=$tmp" \
    && [ -s "$tmp" ] && cp "$java_home/release" moelab.aot.jdk-release 2>>training.log; then
  # bin/moelab uses the cache only where the JDK that runs it has this release file, and the jars are older.
  mv "$tmp" moelab.aot
else
  rm -f "$tmp"
  echo "warning: no AOT cache for bin/moelab, which therefore starts slower; see $out/training.log" >&2
fi
rm -f training.aotconf
exit 0
