#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run runs exactly this).
# Offline DJL: the CPU libtorch comes from the Maven artifact pytorch-native-cpu and is unpacked
# into target/djl-cache; no test touches the network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mvn -B -ntp verify
