#!/usr/bin/env bash
# GPU machine side (after scripts/gpu/prepare.sh on the build machine): from the repository root,
# with .gpu/lib (runtime jars) and .gpukit (GPU kit) present,
#   1. the kit's own check (CUDA, JNI; skip with KIT_SMOKE=0),
#   2. GpuSmoke: a few hundred steps of resnet56 -> resnet20 CRCD on generated CIFAR-shaped data,
#      checking that the loss goes down (gpu-smoke.csv / gpu-smoke.md),
#   3. StepBench for vanilla, KD, CRD+KD, CRCD at batch 64 and 256 (step-gpu-b64.*, step-gpu-b256.*).
# Results go to $OUT. Charts are not drawn there (no fonts on the GPU machine): run
# `scripts/bench.sh docs --step <copied OUT>` on the build machine.
#
# Knobs (environment): OUT (required), BENCH_DEVICE (gpu; "cpu" for a logic check without a GPU),
#   BENCH_BATCHES (64,256), BENCH_METHODS (vanilla,KD,CRD+KD,CRCD), SMOKE_ARGS, STEP_ARGS (extra
#   arguments), SMOKE_TIMEOUT (240 s), STEP_TIMEOUT (420 s), JAVA_HEAP (16g),
#   GPU_BENCH_LOCAL=1 (no kit: use the java on PATH and EXTRA_CP, e.g. a pytorch-native-cpu jar).
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to the results folder}"
mkdir -p "$OUT"
DEVICE="${BENCH_DEVICE:-gpu}"
status=0

if [ "${GPU_BENCH_LOCAL:-0}" = 1 ]; then
  JAVA_OPTS="-Dai.djl.offline=true -Djava.awt.headless=true"
  CP=".gpu/lib/*${EXTRA_CP:+:$EXTRA_CP}"
else
  # shellcheck disable=SC1091
  source .gpukit/env.sh || { echo "run-gpu-bench.sh: GPU kit setup failed (see above)" | tee "$OUT/FAILED"; exit 1; }
  JAVA_OPTS="$DJL_GPU_JAVA_OPTS"
  CP=".gpu/lib/*"
  if [ "${KIT_SMOKE:-1}" = 1 ]; then
    bash .gpukit/smoke.sh ".gpu/lib/*" > "$OUT/kit-smoke.log" 2>&1; tail -n 4 "$OUT/kit-smoke.log"
  fi
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv,noheader > "$OUT/gpu.txt" 2>/dev/null
[ -d .gpu/lib ] || { echo "run-gpu-bench.sh: no .gpu/lib; run scripts/gpu/prepare.sh on the build machine" >&2; exit 2; }

bench() {
  local t="$1"; shift
  # shellcheck disable=SC2086
  timeout -k 10 "$t" java $JAVA_OPTS -Xmx"${JAVA_HEAP:-16g}" \
      -Dlogback.configurationFile=crcd-train/src/cli/logback.xml -cp "$CP" ai.crcd.bench.SuiteMain "$@" 2>&1 \
      | grep -v 'registered at'
}

echo "== gpu-smoke ($DEVICE)"
# shellcheck disable=SC2086
bench "${SMOKE_TIMEOUT:-240}" gpu-smoke --device "$DEVICE" --out "$OUT" ${SMOKE_ARGS:-} | tee "$OUT/gpu-smoke.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || { echo "gpu-smoke failed (exit $rc)" | tee -a "$OUT/FAILED"; status=1; }

echo "== step bench ($DEVICE, batch ${BENCH_BATCHES:-64,256})"
# shellcheck disable=SC2086
bench "${STEP_TIMEOUT:-420}" step --device "$DEVICE" --batch "${BENCH_BATCHES:-64,256}" \
    --methods "${BENCH_METHODS:-vanilla,KD,CRD+KD,CRCD}" --out "$OUT" ${STEP_ARGS:-} | tee "$OUT/step.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || { echo "step bench failed (exit $rc)" | tee -a "$OUT/FAILED"; status=1; }

ls -l "$OUT"
exit $status
