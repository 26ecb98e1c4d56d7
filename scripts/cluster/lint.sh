#!/usr/bin/env bash
# Checks the cluster files without a cluster: shell syntax (bash -n, shellcheck when installed),
# YAML (yamllint when installed: Debian package yamllint), the Kubernetes manifest with
# `kubectl apply --dry-run=client` when kubectl is installed. The required fields of the manifest
# and the Slurm scripts are also checked by crcd-bench's ClusterFilesTest (in CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
ok=0
for f in scripts/cluster/*.sh scripts/cluster/suite-array.sbatch; do
  bash -n "$f" && echo "bash -n $f: ok" || ok=1
done
if command -v shellcheck >/dev/null; then
  shellcheck -S warning scripts/cluster/*.sh scripts/cluster/suite-array.sbatch && echo "shellcheck: ok" || ok=1
else
  echo "shellcheck: not installed, skipped"
fi
if command -v yamllint >/dev/null; then
  yamllint -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable, comments: {min-spaces-from-content: 2}}}' \
    scripts/cluster/k8s-suite-job.yaml configs/bench/tiny-cluster.yaml && echo "yamllint: ok" || ok=1
else
  echo "yamllint: not installed (apt-get install yamllint), skipped"
fi
if command -v kubectl >/dev/null && timeout 10 kubectl cluster-info >/dev/null 2>&1; then
  kubectl apply --dry-run=client --validate=false -f scripts/cluster/k8s-suite-job.yaml && echo "kubectl dry-run: ok" || ok=1
else
  echo "kubectl dry-run: no kubectl or no reachable API server (client dry-run needs one), skipped"
fi
exit $ok
