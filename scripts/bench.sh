#!/usr/bin/env bash
# crcd benchmarks, one command each (docs/benchmarks.md):
#   scripts/bench.sh quick    Fashion-MNIST quick suite (2 CPU cores, ~30-40 min; resumable: rerun to continue)
#   scripts/bench.sh table5   CIFAR-100 Table 5 suite, every method alone and +KD (GPU machines; weeks)
#   scripts/bench.sh cross-arch  CIFAR-100 cross-architecture suite (GPU machines)
#   scripts/bench.sh zoo      Fashion-MNIST suite of every method (2 CPU cores; see its header for the time)
#   scripts/bench.sh configs [--all] [--check]  regenerate configs/ from the method table (docs/zoo.md)
#   scripts/bench.sh step     step time and memory, resnet56 -> resnet20, batch 64, CPU
#   scripts/bench.sh peer     crcd vs PyTorch-eager (Debian python3-torch), same steps, interleaved, CPU
#   scripts/bench.sh imagenet-loader  ImageNet-folder loader images/s + memory on generated 500x375 JPEGs
#   scripts/bench.sh docs     write the generated section of docs/benchmarks.md (+ docs/img/*.png)
#   scripts/bench.sh all      quick, step, docs
#   scripts/bench.sh cli ARGS  any SuiteMain command, e.g. "cli step --batch 256 --out runs/bench/step256"
# Environment: BENCH_OUT (default runs/bench), MVN_FLAGS (e.g. -o for offline builds), JAVA_OPTS,
#   BENCH_SKIP_BUILD=1 (use the last build: tasks of a cluster array, scripts/cluster/);
#   peer: BENCH_THREADS (default nproc), PEER_PYTHON (/usr/bin/python3), PEER_BLAS=openblas|system.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${BENCH_OUT:-runs/bench}"
cmd="${1:-}"
[ -n "$cmd" ] || { sed -n '2,16p' "$0"; exit 2; }
shift || true

cp_file=crcd-bench/target/bench.classpath
# BENCH_SKIP_BUILD=1 reuses the last build (tasks of a cluster job array must not run Maven at once)
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -s "$cp_file" ]; then
  :
# shellcheck disable=SC2086
elif ! build_log=$(mvn -B -q ${MVN_FLAGS:-} -pl crcd-bench -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile="$PWD/$cp_file" -Dmdep.includeScope=runtime 2>&1); then
  echo "$build_log" >&2
  echo "scripts/bench.sh: the build failed (Maven output above)" >&2
  exit 1
fi
CP="crcd-bench/target/classes:$(cat "$cp_file")"
export DJL_OFFLINE="${DJL_OFFLINE:-true}"
# OpenMP waiting and glibc's memory reuse (both sides of the peer bench inherit them)
# shellcheck source=scripts/runtime-env.sh
. scripts/runtime-env.sh

bench() {
  # shellcheck disable=SC2086
  java ${JAVA_OPTS:--Xmx6g} -Dai.djl.offline="$DJL_OFFLINE" -Djava.awt.headless=true \
      -Dlogback.configurationFile=crcd-train/src/cli/logback.xml \
      -cp "$CP" ai.crcd.bench.SuiteMain "$@"
}

# crcd vs PyTorch (docs/benchmarks.md, "crcd vs PyTorch"): Debian's python3-torch, installed here when
# missing. That torch calls the system's libblas.so.3, Debian's reference (netlib) BLAS unless an
# optimised one is installed; crcd's libtorch has MKL inside. For a like-for-like peer it gets
# OpenBLAS (PEER_BLAS=openblas, default): the installed one, or libopenblas0-pthread unpacked under
# $OUT/peer/openblas for the peer process only (nothing on the system changes). The table names the
# BLAS the peer loaded.
peer() {
  local py="${PEER_PYTHON:-/usr/bin/python3}" threads="${BENCH_THREADS:-$(nproc)}" blas_dir="" deb
  if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "scripts/bench.sh: installing Debian's python3-torch for the PyTorch peer" >&2
    apt-get install -y python3-torch >&2 || {
      echo "scripts/bench.sh: cannot install python3-torch (run as root: apt-get install -y python3-torch)" >&2
      exit 1; }
  fi
  if [ "${PEER_BLAS:-openblas}" = openblas ]; then
    local lib
    lib=$(ls /usr/lib/*/openblas-pthread/libblas.so.3 2>/dev/null | head -1 || true)
    if [ -z "$lib" ]; then
      mkdir -p "$OUT/peer/openblas"
      deb=$(ls /var/cache/apt/archives/libopenblas0-pthread_*.deb 2>/dev/null | tail -1 || true)
      if [ -z "$deb" ]; then
        (cd "$OUT/peer/openblas" && apt-get download libopenblas0-pthread >&2) || true
        deb=$(ls "$OUT"/peer/openblas/libopenblas0-pthread_*.deb 2>/dev/null | tail -1 || true)
      fi
      if [ -n "$deb" ]; then
        dpkg-deb -x "$deb" "$OUT/peer/openblas/root"
        lib=$(ls "$(cd "$OUT/peer/openblas/root" && pwd)"/usr/lib/*/openblas-pthread/libblas.so.3 | head -1)
      else
        echo "scripts/bench.sh: no libopenblas0-pthread package found; the peer uses the system BLAS" >&2
      fi
    fi
    [ -z "$lib" ] || blas_dir=$(dirname "$lib")
  fi
  local envs=(--peer-env OMP_WAIT_POLICY=PASSIVE --peer-env "OPENBLAS_NUM_THREADS=$threads"
              --peer-env OPENBLAS_THREAD_TIMEOUT=4)
  [ -z "$blas_dir" ] || envs+=(--peer-env "LD_LIBRARY_PATH=$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  bench peer --out "$OUT/peer" --threads "$threads" --python "$py" "${envs[@]}" "$@"
}

case "$cmd" in
  quick)  bench suite --suite configs/bench/fashion-mnist-quick.yaml --out "$OUT/fashion-mnist-quick" --resume "$@" ;;
  table5) bench suite --suite configs/bench/cifar100-table5.yaml --out "$OUT/cifar100-table5" --resume "$@" ;;
  cross-arch) bench suite --suite configs/bench/cifar100-cross-arch.yaml --out "$OUT/cifar100-cross-arch" --resume "$@" ;;
  zoo)    bench suite --suite configs/bench/fashion-mnist-zoo.yaml --out "$OUT/fashion-mnist-zoo" --resume "$@" ;;
  configs) java -cp "$CP" ai.crcd.bench.configs.ConfigGenerator "$@" ;;
  step)   bench step --out "$OUT/step" "$@" ;;
  imagenet-loader)
          # shellcheck disable=SC2086
          java ${JAVA_OPTS:--Xmx1g} -Djava.awt.headless=true -Dai.djl.offline="$DJL_OFFLINE" \
              -Dbench.dir="$OUT/imagenet-jpegs" ${BENCH_PROPS:-} -cp "$CP" ai.crcd.bench.ImageNetLoaderBench "$OUT/imagenet-loader.csv" ;;
  peer)   peer "$@" ;;
  docs)   bench docs --suite "$OUT/fashion-mnist-quick" --step "$OUT/step" "$@" ;;
  all)    "$0" quick && "$0" step && "$0" docs ;;
  cli)    bench "$@" ;;
  *)      echo "scripts/bench.sh: unknown command '$cmd'; use quick, table5, cross-arch, zoo, configs, step, peer, imagenet-loader, docs, all or cli" >&2; exit 2 ;;
esac
