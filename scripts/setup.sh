#!/usr/bin/env bash
# Installs what crcd needs on a fresh Debian/Ubuntu machine, only where it is missing:
# a JDK 17, Maven, and Fashion-MNIST (Debian package dataset-fashion-mnist).
# Everything else (DJL, the CPU libtorch, libraries) comes from Maven Central on the first build.
set -euo pipefail
need=()
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "crcd setup: installing ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
