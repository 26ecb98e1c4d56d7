#!/usr/bin/env bash
# Runs a crcd suite on a Slurm cluster as job arrays (docs/benchmarks.md, "Suites on a cluster"):
#   scripts/cluster/slurm-suite.sh SUITE OUT SHARDS [sbatch options...]
# e.g. scripts/cluster/slurm-suite.sh configs/bench/cifar100-table5.yaml /shared/runs/table5 16 \
#        --partition=gpu --gres=gpu:1 --time=2-00:00:00        (and CRCD_DEVICE=gpu in the environment)
# Builds once here, then submits three jobs and prints their ids:
#   teachers  array 0..SHARDS-1, --phase teachers
#   students  array 0..SHARDS-1, --phase students, after the teachers array (afterany)
#   report    one task, --report, after the students array (afterany): OUT/table.md, results.csv
# The repository (with its build and ~/.m2) and OUT must be on a file system all nodes share.
# Resume: run the same command again (finished runs are skipped, interrupted ones continue).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0"; exit 2; }
suite="$1"; out="$2"; shards="$3"; shift 3
cd "$(dirname "$0")/../.."
[ -f "$suite" ] || { echo "slurm-suite.sh: suite file '$suite' not found (relative to $PWD)" >&2; exit 2; }
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "slurm-suite.sh: SHARDS must be a positive integer, got '$shards'" >&2; exit 2; }
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$out/slurm"
scripts/bench.sh cli suite --suite "$suite" --out "$out" --list >/dev/null   # builds, checks the suite file
env_list="ALL,CRCD_HOME=$PWD,CRCD_SUITE=$suite,CRCD_OUT=$out,CRCD_SHARDS=$shards"
sub() { sbatch --parsable --output="$out/slurm/%x-%A_%a.out" "$@"; }
t=$(sub --job-name=crcd-teachers --array="0-$((shards - 1))" --export="$env_list,CRCD_PHASE=teachers" \
      "$@" scripts/cluster/suite-array.sbatch)
s=$(sub --job-name=crcd-students --array="0-$((shards - 1))" --dependency="afterany:$t" \
      --export="$env_list,CRCD_PHASE=students" "$@" scripts/cluster/suite-array.sbatch)
r=$(sub --job-name=crcd-report --array=0 --dependency="afterany:$s" --export="$env_list,CRCD_PHASE=report" \
      "$@" scripts/cluster/suite-array.sbatch)
echo "submitted: teachers $t, students $s, report $r; logs in $out/slurm/, table in $out/table.md"
echo "$t $s $r" > "$out/slurm/jobs"
