#!/usr/bin/env bash
# Build-machine side of the GPU benchmark (GPU kit README, "(a)"): builds crcd with -Dcuda (no CPU
# libtorch jar), copies the runtime jars to .gpu/lib and the kit to .gpukit; both are git-ignored
# through the repository's info/exclude and travel to the GPU machine as extra paths.
#   GPUKIT_DIR  the kit (default ../shared/gpukit, i.e. next to the repository)
#   MVN_FLAGS   extra Maven flags, e.g. -o
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT="${GPUKIT_DIR:-../shared/gpukit}"
[ -f "$KIT/env.sh" ] || { echo "prepare.sh: no GPU kit at $KIT (set GPUKIT_DIR to the folder with env.sh)" >&2; exit 2; }

rm -rf .gpu
# shellcheck disable=SC2086
mvn -B -q ${MVN_FLAGS:-} -Dcuda -DskipTests -pl crcd-bench -am package dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$PWD/.gpu/lib"
cp crcd-bench/target/crcd-bench-*.jar .gpu/lib/
rm -f .gpu/lib/pytorch-native-*.jar .gpu/lib/*-sources.jar .gpu/lib/*-tests.jar
# XChart's PDF/SVG/test extras are not needed: the GPU side writes CSV/Markdown only (no fonts there)
rm -f .gpu/lib/junit-*.jar .gpu/lib/pdfbox-*.jar .gpu/lib/fontbox-*.jar .gpu/lib/graphics2d-*.jar \
      .gpu/lib/VectorGraphics2D-*.jar .gpu/lib/hamcrest-*.jar
if ls .gpu/lib/api-*.jar >/dev/null 2>&1; then
  ls .gpu/lib/api-0.36.0.jar >/dev/null || { echo "prepare.sh: DJL api is not 0.36.0: $(ls .gpu/lib/api-*.jar)" >&2; exit 1; }
fi

rm -rf .gpukit && cp -r "$KIT" .gpukit
exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || printf '/.gpu/\n/.gpukit/\n' >> "$exclude"
if git status --short | grep -E '\.gpu'; then
  echo "prepare.sh: .gpu or .gpukit shows up in git status; they must stay untracked and ignored" >&2; exit 1
fi
du -sh .gpu .gpukit
echo "ready: on the GPU machine run  OUT=<results folder> bash scripts/gpu/run-gpu-bench.sh"
