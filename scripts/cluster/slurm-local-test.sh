#!/usr/bin/env bash
# Runs the tiny suite on a single-node Slurm cluster on this machine, as a user's cluster would,
# and checks that the merged report equals the unsharded run's (docs/benchmarks.md,
# "Suites on a cluster"). Not part of CI: needs root, Debian's slurm-wlm and munge, and daemons.
#   apt-get install -y slurm-wlm munge        (once)
#   scripts/cluster/slurm-local-test.sh [OUT]  (default runs/cluster/slurm-local; as root)
# Steps: munged --force; slurm.conf in $SLURM_LOCAL_DIR (default /tmp/crcd-slurm) with this host as
# the only node (its CPUs, no cgroups, no accounting); slurmctld and slurmd started by hand (slurmd
# under nice, so every task is niced); scripts/cluster/slurm-suite.sh submits
# configs/bench/tiny-cluster.yaml as a 4-task teachers array, a 4-task students array and the
# report; meanwhile the same suite runs unsharded (nice); then both reports are compared without
# the wall-time columns. The daemons started here are stopped at the end (KEEP_SLURM=1 keeps them).
# CANCEL_TASK=K: cancel students task K once it has claimed its run (a partly failed array); if
# no other task took the run over, rerun task K as docs/benchmarks.md says, then the report.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
out="${1:-runs/cluster/slurm-local}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
suite=configs/bench/tiny-cluster.yaml
shards=4
dir="${SLURM_LOCAL_DIR:-/tmp/crcd-slurm}"

[ "$(id -u)" = 0 ] || { echo "slurm-local-test.sh: run as root (it starts munged, slurmctld, slurmd)" >&2; exit 2; }
for b in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$b" >/dev/null || { echo "slurm-local-test.sh: $b not found; apt-get install -y slurm-wlm munge" >&2; exit 2; }
done

host="$(hostname -s)"
cpus="$(nproc)"
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<CONF
ClusterName=crcd-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
MinJobAge=3600
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

started=()
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  munged --force
  started+=(munged)
fi
if ! scontrol ping 2>/dev/null | grep -q UP; then
  slurmctld
  started+=(slurmctld)
fi
if ! [ -s "$dir/slurmd.pid" ] || ! kill -0 "$(cat "$dir/slurmd.pid")" 2>/dev/null; then
  nice -n 10 slurmd
  started+=(slurmd)
fi
stop() {
  [ "${KEEP_SLURM:-0}" = 1 ] && return
  for d in "${started[@]}"; do
    case "$d" in
      slurmd) kill "$(cat "$dir/slurmd.pid")" 2>/dev/null || true ;;
      slurmctld) kill "$(cat "$dir/slurmctld.pid")" 2>/dev/null || true ;;
      munged) kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true ;;
    esac
  done
}
trap stop EXIT
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break
  sleep 1
done
sinfo

rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
scripts/cluster/slurm-suite.sh "$suite" "$out/sharded" "$shards"
read -r t s r < "$out/sharded/slurm/jobs"
echo "unsharded reference run (nice) in the background ..."
BENCH_SKIP_BUILD=1 JAVA_OPTS="-Xmx1g" nice -n 10 scripts/bench.sh cli suite --suite "$suite" --out "$out/whole" \
  > "$out/whole.log" 2>&1 &
ref=$!
jobs_of() { # JobId, ArrayTaskId, JobName, JobState, ExitCode of each task of the given jobs
  for j in "$@"; do
    scontrol -o show job "$j" | awk '{ o = ""; for (i = 1; i <= NF; i++) { split($i, kv, "=")
      if (kv[1] ~ /^(JobId|ArrayTaskId|JobName|JobState|ExitCode)$/) o = o " " $i } print substr(o, 2) }'
  done
}
cancelled=""
if [ -n "${CANCEL_TASK:-}" ]; then
  # a partly failed array: cancel students task CANCEL_TASK once its run has saved its first epoch
  run=$(BENCH_SKIP_BUILD=1 scripts/bench.sh cli suite --suite "$suite" --out "$out/sharded" --list \
        --shard "$CANCEL_TASK/$shards" | awk '$2 == "students" { print $6; exit }')
  for _ in $(seq 1500); do [ -f "$out/sharded/claims/$run/claim-1.json" ] && break; sleep 0.2; done
  for _ in $(seq 300); do [ -f "$out/sharded/$run/checkpoint.ckpt" ] && break; sleep 0.2; done # its first epoch
  scancel "${s}_$CANCEL_TASK"
  cancelled="students task $CANCEL_TASK cancelled (scancel) in $run ($(ls "$out/sharded/$run" | tr '\n' ' '))"
  echo "$cancelled"
fi
while [ -n "$(squeue -h -j "$t,$s,$r" 2>/dev/null)" ]; do sleep 2; done
jobs_of "$t" "$s" "$r" | tee "$out/jobs.txt"
cat "$out/sharded/slurm/crcd-report-"*.out
if [ -n "$cancelled" ] && ! grep -q ", 0 missing" "$out/sharded/slurm/crcd-report-${r}_0.out"; then
  # resume as docs/benchmarks.md says: rerun the failed task (same N), then the report
  env_list="ALL,CRCD_HOME=$root,CRCD_SUITE=$suite,CRCD_OUT=$out/sharded,CRCD_SHARDS=$shards"
  s2=$(sbatch --parsable --output="$out/sharded/slurm/%x-%A_%a.out" --job-name=crcd-students --array="$CANCEL_TASK" \
        --export="$env_list,CRCD_PHASE=students" scripts/cluster/suite-array.sbatch)
  r2=$(sbatch --parsable --output="$out/sharded/slurm/%x-%A_%a.out" --job-name=crcd-report --array=0 \
        --dependency="afterany:$s2" --export="$env_list,CRCD_PHASE=report" scripts/cluster/suite-array.sbatch)
  while [ -n "$(squeue -h -j "$s2,$r2" 2>/dev/null)" ]; do sleep 2; done
  jobs_of "$s2" "$r2" | tee "$out/jobs-rerun.txt"
  cat "$out/sharded/slurm/crcd-report-${r2}_0.out"
  ok2=$(grep -c 'COMPLETED.* ExitCode=0:0' "$out/jobs-rerun.txt" || true)
  took=$(grep -h 'took over' "$out/sharded/slurm/crcd-students-${s2}_"*.out || true)
  cancelled+="; the report said runs were missing; rerun of task $CANCEL_TASK: $ok2 of 2 tasks COMPLETED/0, $took"
elif [ -n "$cancelled" ]; then
  took=$(grep -h 'took over' "$out/sharded/slurm/crcd-students-"*.out || true)
  cancelled+="; ${took:-no takeover logged} (another task took it over)"
fi
wait "$ref"
elapsed=$(( $(date +%s) - start ))

strip_csv() { # drop the seconds column and the suite folder from paths
  awk -F, -v d="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i }
    { l = ""; for (i = 1; i <= NF; i++) if (i != s) l = l (l == "" ? "" : ",") $i
      while ((p = index(l, d)) > 0) l = substr(l, 1, p - 1) "OUT" substr(l, p + length(d)); print l }' "$1"
}
strip_table() { sed -E '/^\|/ s/[^|]*\|$//' "$1"; }
same=yes
for f in results.csv per_epoch.csv; do
  diff <(strip_csv "$out/whole/$f" "$out/whole") <(strip_csv "$out/sharded/$f" "$out/sharded") > "$out/diff-$f.txt" \
    || same=no
done
diff <(strip_table "$out/whole/table.md") <(strip_table "$out/sharded/table.md") > "$out/diff-table.txt" || same=no
failed=$(grep -cvE 'JobState=COMPLETED.* ExitCode=0:0' "$out/jobs.txt" || true)
complete=no
grep -q '^Suite `[^`]*`: complete' "$out/sharded/table.md" && complete=yes
summary="slurm-local-test: $shards-task teachers + students arrays and report on $host ($cpus CPUs, $(sinfo -V)):"
summary+=" $(grep -c . "$out/jobs.txt" || true) job tasks, $failed not COMPLETED/0;${cancelled:+ $cancelled;} $elapsed s;"
summary+=" merged report complete: $complete, equal to the unsharded one (results.csv, per_epoch.csv, table.md"
summary+=" without wall times): $same"
echo "$summary" | tee "$out/summary.txt"
[ "$same" = yes ] && [ "$complete" = yes ] && { [ "$failed" = 0 ] || [ -n "$cancelled" ]; }
