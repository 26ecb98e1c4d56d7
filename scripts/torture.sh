#!/usr/bin/env bash
# crcd torture test: tries the command line as a hostile user would and prints a pass/fail table.
#
#   bash scripts/torture.sh            # builds the jar if missing; about 5-8 minutes on 2 cores
#   TORTURE_KILLS=6 bash scripts/torture.sh
#
# Sections (see docs/robustness.md for the last result):
#   input   ~45 bad configs, values, files, folders and command lines: each must exit with the
#           expected status and print ONE line on stderr (log lines aside), no stack trace
#   kill    kill -9 a short CRCD run at random moments (and while a checkpoint is being written),
#           then --resume until done: the final model.params must be bit-identical to an
#           uninterrupted run
#   disk    a full disk (a 1 MB tmpfs, root only): one line, no *.tmp left, the previous
#           checkpoint intact, --resume after freeing space; a read-only output.dir
#   folder  two runs on one output.dir at the same time: the second is refused
#
# Tiny Fashion-MNIST settings (8 images per class, 16 per batch); everything runs in a temp
# folder ($TORTURE_DIR or mktemp). Exit status: 0 when every case passes, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KILLS="${TORTURE_KILLS:-5}"
W="${TORTURE_DIR:-$(mktemp -d /tmp/crcd-torture.XXXXXX)}"
mkdir -p "$W"
# shellcheck source=scripts/runtime-env.sh
. scripts/runtime-env.sh

JAR=$(ls crcd-train/target/crcd-train-*-all.jar 2>/dev/null | head -n 1)
if [ -z "$JAR" ]; then
  mvn -B -q -ntp -pl crcd-train -am package -DskipTests || exit 1
  JAR=$(ls crcd-train/target/crcd-train-*-all.jar | head -n 1)
fi
JAR="$ROOT/$JAR"
CFG="$ROOT/configs/fashion-mnist"
CRCD_CFG="$CFG/crcd/resnet20_resnet8.yaml"
TRAIN_CFG="$CFG/vanilla/resnet8.yaml"
cd "$W"

java_() { timeout 300 java -Xmx2g -Dai.djl.offline=true -jar "$JAR" "$@"; }
TINY=(--set data.subset_per_class=8 --set data.test_subset_per_class=4 --set data.batch_size=16
      --set optim.epochs=2 "--set" "optim.milestones=[1]" --set output.progress_seconds=0)
SMALL=(--set distill.options.negatives=32 --set distill.options.relation_dim=32
       --set distill.options.critic_dim=16)

NAMES=(); RESULTS=(); NOTES=()
record() { # name PASS|FAIL|SKIP note
  NAMES+=("$1"); RESULTS+=("$2"); NOTES+=("$3")
  printf '%-4s %-44s %s\n' "$2" "$1" "$3" >&2
}

# The line a failing command printed: stderr without log lines and progress lines.
error_lines() {
  grep -Ev '^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? +(INFO|WARN|DEBUG|TRACE) ' "$1" \
    | grep -Ev '^(train|distill) .*(step [0-9]+/[0-9]+|epoch [0-9]+/[0-9]+ lr )' \
    | grep -v '^\s*$' || true
}

# expect NAME CODE PATTERN -- ARGS...: runs crcd-train, checks the exit status, ONE error line
# matching PATTERN (extended regex, case-insensitive) and no stack trace.
expect() {
  local name=$1 code=$2 pat=$3; shift 4
  local out="$W/out.$$" err="$W/err.$$"
  java_ "$@" >"$out" 2>"$err"; local rc=$?
  local lines; lines=$(error_lines "$err")
  local n; n=$(printf '%s' "$lines" | grep -c '' || true)
  local note
  note="rc=$rc: $(printf '%s' "$lines" | head -n 1 | cut -c1-150)"
  if grep -qE $'^\tat |Exception in thread|^Caused by' "$err"; then
    record "$name" FAIL "stack trace; $note"
  elif [ "$rc" != "$code" ]; then
    record "$name" FAIL "expected rc=$code; $note"
  elif [ "$code" != 0 ] && [ "$n" != 1 ]; then
    record "$name" FAIL "$n lines; $note"
  elif [ -n "$pat" ] && ! printf '%s' "$lines" | grep -qiE "$pat"; then
    record "$name" FAIL "no /$pat/; $note"
  else
    record "$name" PASS "$note"
  fi
}

started=$(date +%s)
echo "torture: jar $JAR, work folder $W" >&2

# ---------------------------------------------------------------- fixtures
java_ train -c "$TRAIN_CFG" "${TINY[@]}" --set optim.epochs=1 --set output.dir=teacher >/dev/null 2>"$W/teacher.err" \
  || { echo "cannot train the fixture teacher: $(tail -n 3 "$W/teacher.err")" >&2; exit 1; }
TEACHER="$W/teacher/model.params"
D=(distill -c "$CRCD_CFG" "${TINY[@]}" "${SMALL[@]}" --set teacher.name=resnet8 --set "teacher.checkpoint=$TEACHER")
T=(train -c "$TRAIN_CFG" "${TINY[@]}")
echo x > afile
printf 'kind: train\noptim:\n  lr: 0.1\n  lr: 0.2\n' > dup.yaml
printf 'kind: train\noptim: {lr: 0.1\n  epochs: [\n' > broken.yaml
printf 'kind: train\noptim: {lr: .nan}\n' > nan.yaml
printf 'kind: train\noptim: {momentum: .inf}\n' > inf.yaml
printf -- '- a\n- b\n' > list.yaml
printf 'kind: train\nmodel: {name: resnet8}\nbogus_key: 1\n' > unknown.yaml
head -c 5000 /dev/urandom > garbage.params
java_ "${T[@]}" --set output.dir=done >/dev/null 2>&1
java_ "${D[@]}" --set optim.epochs=1 --set output.dir=ddone >/dev/null 2>&1

# ---------------------------------------------------------------- bad inputs
expect "missing config file"             2 'no such config file'        -- validate -c nope.yaml
expect "no --config"                     2 'config'                     -- validate
expect "unknown option"                  2 'bogus'                      -- validate -c "$TRAIN_CFG" --bogus
expect "unknown command"                 2 'frobnicate'                 -- frobnicate
expect "--set without ="                 2 'key.path=value'             -- validate -c "$TRAIN_CFG" --set optim.lr
expect "--set into a value"              2 'not a section'              -- validate -c "$TRAIN_CFG" --set optim.lr.x=1
expect "unknown top-level key"           2 'bogus_key'                  -- validate -c unknown.yaml
expect "unknown nested key"              2 'optim.lrr'                  -- validate -c "$TRAIN_CFG" --set optim.lrr=0.1
expect "negative lr"                     2 'optim.lr'                   -- validate -c "$TRAIN_CFG" --set optim.lr=-0.1
expect "lr .nan via --set"               2 'optim.lr.*finite'           -- validate -c "$TRAIN_CFG" --set optim.lr=.nan
expect "lr .nan in YAML"                 2 'optim.lr.*finite'           -- validate -c nan.yaml
expect "momentum .inf in YAML"           2 'optim.momentum.*finite'     -- validate -c inf.yaml
expect "epochs not a number"             2 'optim.epochs'               -- validate -c "$TRAIN_CFG" --set optim.epochs=abc
expect "epochs 1.5"                      2 'optim.epochs'               -- validate -c "$TRAIN_CFG" --set optim.epochs=1.5
expect "epochs 0"                        2 'optim.epochs'               -- validate -c "$TRAIN_CFG" --set optim.epochs=0
expect "batch size 0"                    2 'data.batch_size'            -- validate -c "$TRAIN_CFG" --set data.batch_size=0
expect "milestones decreasing"           2 'optim.milestones'           -- validate -c "$TRAIN_CFG" "--set" "optim.milestones=[3, 1]"
expect "gamma 2"                         2 'optim.gamma'                -- validate -c "$TRAIN_CFG" --set optim.gamma=2
expect "unknown model"                   2 'model.name'                 -- validate -c "$TRAIN_CFG" --set model.name=resnet9000
expect "unknown data set"                2 'data.name'                  -- validate -c "$TRAIN_CFG" --set data.name=mnist-ish
expect "unknown method"                  2 'distill.method'             -- validate -c "$CRCD_CFG" --set distill.method=magic
expect "unknown method option"           2 'distill.options'            -- validate -c "$CRCD_CFG" --set distill.options.foo=1
expect "negative tau"                    2 'tau'                        -- validate -c "$CRCD_CFG" --set distill.options.tau=-1
expect "kind vs command"                 2 'kind'                       -- train -c "$CRCD_CFG"
expect "devices 2"                       2 'devices'                    -- validate -c "$TRAIN_CFG" --set devices=2
expect "duplicate YAML key"              2 'dup.yaml:4:.*duplicate key'  -- validate -c dup.yaml
expect "malformed YAML"                  2 'broken.yaml:3:9: not valid'  -- validate -c broken.yaml
expect "YAML list at top level"          2 'top level'                  -- validate -c list.yaml
expect "teacher checkpoint missing"      2 'teacher.checkpoint'         -- "${D[@]}" --set teacher.checkpoint=none/model.params --set output.dir=r1
expect "teacher checkpoint garbage"      2 'teacher.checkpoint'         -- "${D[@]}" --set teacher.checkpoint=garbage.params --set output.dir=r2
expect "teacher of another network"      2 'teacher.checkpoint'         -- "${D[@]}" --set teacher.name=resnet20 --set output.dir=r3
expect "data.root missing"               2 'data.root'                  -- "${T[@]}" --set data.root=nowhere --set output.dir=r4
expect "output.dir under a file"         2 'output.dir.*is a file'      -- "${T[@]}" --set output.dir=afile/run
expect "output.dir is a file"            2 'output.dir.*is a file'      -- "${T[@]}" --set output.dir=afile
expect "validate: output.dir is a file"  2 'output.dir.*is a file'      -- validate --check-files -c "$TRAIN_CFG" --set output.dir=afile
expect "CRCD negatives 1e9"              2 'needs about .* per training step' -- "${D[@]}" --set distill.options.negatives=1000000000 --set output.dir=r5
expect "CRD nce_k 1e9"                   2 'needs about .* per training step' -- "${D[@]}" --set distill.method=crd_kd "--set" "distill.options={nce_k: 1000000000}" --set output.dir=r6
expect "run folder holds a run"          2 'output.dir.*--resume'       -- "${T[@]}" --set optim.epochs=1 --set output.dir=done
expect "--resume, another method"        2 'distill.method'             -- "${D[@]}" --set distill.method=kd "--set" "distill.options={}" --set output.dir=ddone --resume
expect "--resume, another model"         2 'model.name'                 -- "${T[@]}" --set model.name=resnet20 --set optim.epochs=3 --set output.dir=done --resume
expect "--resume, fewer epochs"          2 'optim.epochs.*at least'     -- "${T[@]}" --set optim.epochs=1 --set output.dir=done --resume
cp -r done trunc && truncate -s 1000 trunc/checkpoint.ckpt
expect "--resume, truncated checkpoint"  2 'truncated|cut short'                  -- "${T[@]}" --set optim.epochs=3 --set output.dir=trunc --resume
# 8 overwritten bytes in the middle of the checkpoint: needs checksums (#11 item 5, h3a-guard)
cp -r done flipped && size=$(stat -c %s flipped/checkpoint.ckpt) \
  && printf '\xff\xff\xff\xff\xff\xff\xff\x7f' | dd of=flipped/checkpoint.ckpt bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect "--resume, 8 bytes overwritten"   2 'checksum|SHA-256|corrupt'   -- "${T[@]}" --set optim.epochs=3 --set output.dir=flipped --resume
# a teacher whose classifier bias is NaN: refused (h3a-guard, #11 item 5) or at least not 100 %
# (the last 10 floats of the payload; a checksum trailer, if any, is recomputed so that the file
# is intact and only its values are bad)
python3 - "$TEACHER" nan-teacher.params <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], 'rb').read()
sealed = b[-8:] == b'CRCDSHA2'
p = b[:-48] if sealed else b
p = p[:-40] + b'\x7f\xc0\xc0\x7f' * 10  # NaN read as either byte order
if sealed:
    p += hashlib.sha256(p).digest() + struct.pack('>q', len(p)) + b'CRCDSHA2'
open(sys.argv[2], 'wb').write(p)
PY
expect "teacher with NaN weights"        2 'non-finite'    -- "${D[@]}" --set teacher.checkpoint=nan-teacher.params --set optim.epochs=1 --set output.dir=r7
# ranking (#11 item 1, h1-core): the NaN teacher's own evaluation (summary.md) must not be 100 %;
# frcd without KD trains on the teacher's (finite) features, so the run gets to its summary
java_ "${D[@]}" --set teacher.checkpoint=nan-teacher.params --set optim.epochs=1 --set distill.method=frcd \
  "--set" "distill.options={alpha: 0, negatives: 32, relation_dim: 32, critic_dim: 16}" --set output.dir=r7b >/dev/null 2>&1
if [ -f r7b/summary.md ] && grep -q 'teacher top-1 / top-5 (%) *| *100' r7b/summary.md; then
  record "NaN network does not score 100 %" FAIL "summary.md: $(grep 'teacher top-1' r7b/summary.md | cut -c1-80)"
else
  record "NaN network does not score 100 %" PASS "teacher refused or scored < 100 %"
fi
# nan_policy: skip with every step skipped must not exit 0 (#11 item 4, h3a-guard)
expect "every step skipped (nan_policy skip)" 1 'skipped'               -- "${T[@]}" --set optim.lr=1e30 --set nan_policy=skip --set optim.epochs=1 --set output.dir=r8
# a divergence (tau 1e-12: loss ~1e18) must stop (#11 item 4, h3a-guard)
expect "divergence (tau 1e-12) stops"    1 'diverg|explod|magnitude'         -- "${D[@]}" --set distill.options.tau=1e-12 --set output.dir=r9
# an unexpected error (the JVM out of heap): one line naming the log file with the stack trace
java_heap() { timeout 120 java -Xmx24m -Dai.djl.offline=true -jar "$JAR" "$@"; }
java_heap "${T[@]}" --set output.dir=r10 >/dev/null 2>heap.err; rc=$?
line=$(error_lines heap.err)
if [ "$rc" = 2 ] && [ "$(printf '%s' "$line" | grep -c '')" = 1 ] && printf '%s' "$line" | grep -q 'full stack trace in' \
   && ! grep -qE $'^\tat ' heap.err && [ ! -e r10 ]; then
  record "JVM out of heap: line + log file" PASS "rc=$rc: $(printf '%s' "$line" | cut -c1-150)"
else
  record "JVM out of heap: line + log file" FAIL "rc=$rc: $(printf '%s' "$line" | head -n 1 | cut -c1-150)"
fi
for d in r1 r2 r3 r4 r5 r6 afile/run; do
  [ -e "$d" ] && { record "nothing left behind" FAIL "$d exists after a refused run"; break; }
done
[ "${RESULTS[-1]}" = FAIL ] || record "nothing left behind" PASS "no run folder created by refused runs"

# ---------------------------------------------------------------- kill -9 and --resume
K=("${D[@]}" --set optim.epochs=3 "--set" "optim.milestones=[2]")
java_ "${K[@]}" --set output.dir=ref >/dev/null 2>ref.err
if [ ! -f ref/model.params ]; then
  record "kill: reference run" FAIL "$(error_lines ref.err | head -n 1)"
else
  t0=$(date +%s%N); java_ "${K[@]}" --set output.dir=timing >/dev/null 2>&1; t1=$(date +%s%N)
  dur_ms=$(( (t1 - t0) / 1000000 ))
  for i in $(seq 1 "$KILLS"); do
    dir="kill$i"; kills=0; note=""
    for attempt in 1 2 3; do
      # --resume from the start: without a checkpoint it starts at epoch 1
      java -Xmx2g -Dai.djl.offline=true -jar "$JAR" "${K[@]}" --set output.dir="$dir" --resume >/dev/null 2>"$dir.err$attempt" &
      pid=$!
      if [ $((i % 2)) = 0 ] && [ "$attempt" = 1 ]; then
        # wait for a checkpoint write in progress (the temp file exists) and kill then
        end=$((SECONDS + 60)); caught=0
        while [ $SECONDS -lt $end ] && kill -0 $pid 2>/dev/null; do
          if compgen -G "$dir/checkpoint.ckpt.*.tmp" >/dev/null; then kill -9 $pid 2>/dev/null; caught=1; break; fi
        done
        note+="during-write:$caught "
      else
        ms=$(( RANDOM % dur_ms ))
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -9 $pid 2>/dev/null && note+="at ${ms}ms "
      fi
      wait $pid 2>/dev/null; kills=$((kills + 1))
      [ -f "$dir/model.params" ] && break
    done
    java_ "${K[@]}" --set output.dir="$dir" --resume >/dev/null 2>"$dir.resume.err"
    rc=$?
    if [ "$rc" = 0 ] && cmp -s ref/model.params "$dir/model.params"; then
      record "kill -9 #$i then --resume" PASS "${note}identical model.params"
    else
      record "kill -9 #$i then --resume" FAIL "${note}rc=$rc $(error_lines "$dir.resume.err" | head -n 1 | cut -c1-120)"
    fi
  done
fi

# ---------------------------------------------------------------- full disk, read-only folder
if [ "$(id -u)" = 0 ] && mkdir -p full ro && mount -t tmpfs -o size=1m tmpfs full 2>/dev/null; then
  expect "disk full during a checkpoint"  2 'disk is full.*free at least' -- "${T[@]}" --set output.dir=full/run
  if ls full/run/*.tmp >/dev/null 2>&1; then
    record "disk full: no *.tmp left" FAIL "$(ls full/run/*.tmp)"
  else
    record "disk full: no *.tmp left" PASS "$(df -h --output=pcent full | tail -n 1 | tr -d ' ') used"
  fi
  mount -o remount,size=8m full
  expect "disk freed: --resume finishes"  0 ''                           -- "${T[@]}" --set output.dir=full/run --resume
  umount full
  if mount -t tmpfs -o ro,size=1m tmpfs ro 2>/dev/null; then
    expect "output.dir read-only"         2 'output.dir.*read-only'      -- "${T[@]}" --set output.dir=ro/run
    umount ro
  fi
else
  record "disk full / read-only folder" SKIP "needs root to mount a 1 MB tmpfs"
fi

# ---------------------------------------------------------------- two runs on one folder
java -Xmx2g -Dai.djl.offline=true -jar "$JAR" "${K[@]}" --set output.dir=twice >/dev/null 2>twice.a.err &
pid=$!
end=$(( $(date +%s) + 60 ))
until grep -q 'step ' twice.a.err 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
expect "second run on a busy folder"     2 'in use'   -- "${K[@]}" --set output.dir=twice
expect "second --resume on a busy folder" 2 'in use'  -- "${K[@]}" --set output.dir=twice --resume
wait $pid; rc=$?
if [ "$rc" = 0 ] && cmp -s ref/model.params twice/model.params 2>/dev/null; then
  record "first run unharmed" PASS "identical model.params"
else
  record "first run unharmed" FAIL "rc=$rc, model.params differs from the reference"
fi

# ---------------------------------------------------------------- table
pass=0; fail=0; skip=0
echo
echo "| # | case | result | what happened |"
echo "|---|---|---|---|"
for i in "${!NAMES[@]}"; do
  case "${RESULTS[$i]}" in PASS) pass=$((pass + 1));; FAIL) fail=$((fail + 1));; *) skip=$((skip + 1));; esac
  printf '| %d | %s | %s | %s |\n' $((i + 1)) "${NAMES[$i]}" "${RESULTS[$i]}" "$(printf '%s' "${NOTES[$i]}" | sed 's/|/\\|/g')"
done
echo
echo "torture: $pass passed, $fail failed, $skip skipped in $(( $(date +%s) - started )) s (work folder $W)"
[ "$fail" = 0 ]
