#!/usr/bin/env bash
# Builds and runs the JVM reference for docs/consolidation.md: a Java transcription of CloudSim
# 3.0.3's classes on the PlanetLab power examples' code path (README.md beside this file says what it
# covers and which sources it was transcribed from). The Java source is kept outside the repository:
# point CLOUDSIM_PORT_DIR at the folder that holds Port.java.
#
#   scripts/cloudsim/build.sh [day] [policy...]     # e.g. scripts/cloudsim/build.sh 20110303 thr-mmt-0.8 npa
#
# Needs java/javac 17 and Debian's libcommons-math3-java (/usr/share/java/commons-math3.jar).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
port="${CLOUDSIM_PORT_DIR:-/work/wt/thr-cloudsim/port}"
math="${COMMONS_MATH3_JAR:-/usr/share/java/commons-math3.jar}"
day="${1:-20110303}"
shift || true
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(thr-mmt-0.8)
[ -f "$math" ] || { echo "missing $math: apt-get install -y --no-install-recommends libcommons-math3-java" >&2; exit 1; }
[ -f "$port/Port.java" ] || { echo "missing $port/Port.java (set CLOUDSIM_PORT_DIR)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
javac -cp "$math" -d "$work/out" "$port/Port.java"
tar -xzf "$repo/traces/planetlab/planetlab-cloudsim-10days.tar.gz" -C "$work" "planetlab/$day"
# CloudSim takes File.listFiles() (readdir) order. When the order the reference figures were printed
# with is recorded for the day, replay it; otherwise use this machine's readdir order.
order="$repo/test/sim/consolidation/fixtures/listfiles-$day.txt"
args=()
[ -f "$order" ] && args=("order=$order")
for p in "${policies[@]}"; do
  /usr/bin/time -f "wall %e s, user %U s, max RSS %M KB" java -cp "$work/out:$math" Port "$work/planetlab/$day" "$p" "${args[@]}"
done
