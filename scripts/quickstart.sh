#!/usr/bin/env bash
# crcd quickstart: teacher, vanilla student and CRCD student on Fashion-MNIST, on the CPU.
#
# 1. scripts/setup.sh (JDK 17, Maven, Fashion-MNIST from the Debian package, only if missing)
# 2. builds the runnable jar crcd-train/target/crcd-train-*-all.jar (tests skipped)
# 3. trains a resnet20 teacher, a vanilla resnet8 student (cross-entropy only) and a
#    resnet20 -> resnet8 CRCD student, each for QS_EPOCHS epochs (default 4, lr x0.1 for the last
#    one) on the first QS_PER_CLASS training images per class (default 300, i.e. 3,000 images)
#    and evaluated on the first QS_TEST_PER_CLASS test images per class (default 100 = 1,000)
# 4. prints the three test accuracies (top-1 of the last epoch; best epoch in brackets)
#
# Runs go to runs/quickstart/{teacher,vanilla,crcd}; an earlier quickstart there is removed.
# The full-length configs are configs/fashion-mnist/*; see docs/training.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PER_CLASS="${QS_PER_CLASS:-300}"
TEST_PER_CLASS="${QS_TEST_PER_CLASS:-100}"
EPOCHS="${QS_EPOCHS:-4}"
LAST=$((EPOCHS - 1))
OUT=runs/quickstart
start=$(date +%s)

bash scripts/setup.sh
mvn -B -q -ntp -pl crcd-train -am package -DskipTests
JAR=$(ls crcd-train/target/crcd-train-*-all.jar | head -n 1)

# OpenMP waiting and glibc's memory reuse for the JVMs below
# shellcheck source=scripts/runtime-env.sh
. scripts/runtime-env.sh
run() {
  java -Xmx3g -Dai.djl.offline=true -jar "$JAR" "$@" \
    --set data.subset_per_class="$PER_CLASS" \
    --set data.test_subset_per_class="$TEST_PER_CLASS" \
    --set optim.epochs="$EPOCHS" \
    --set "optim.milestones=[$LAST]" \
    --set output.progress_seconds=10
}

rm -rf "$OUT"
run train --config configs/fashion-mnist/teachers/resnet20.yaml --set output.dir=$OUT/teacher
run train --config configs/fashion-mnist/vanilla/resnet8.yaml --set output.dir=$OUT/vanilla
run distill --config configs/fashion-mnist/crcd/resnet20_resnet8.yaml \
  --set teacher.checkpoint=$OUT/teacher/model.params --set output.dir=$OUT/crcd

acc() { # last-epoch and best top-1 from metrics.csv
  awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="test_top1") c=i; next}
           {last=$c; if($c>best) {best=$c; e=$1}} END{printf "%6.2f %% (best %.2f %% at epoch %d)", last, best, e}' "$1/metrics.csv"
}
echo
echo "Fashion-MNIST quickstart ($((PER_CLASS * 10)) training images, $EPOCHS epochs, $((TEST_PER_CLASS * 10)) test images), test top-1:"
echo "  teacher  resnet20            $(acc $OUT/teacher)"
echo "  student  resnet8 (vanilla)   $(acc $OUT/vanilla)"
echo "  student  resnet8 (CRCD)      $(acc $OUT/crcd)"
echo "Run folders: $OUT/{teacher,vanilla,crcd} (summary.md, metrics.csv, curves.png). Wall time: $(( $(date +%s) - start )) s"
