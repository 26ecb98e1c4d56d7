# Process environment for crcd's JVMs (sourced by scripts/quickstart.sh, bench.sh, torture.sh; docs/performance.md,
# "Runtime environment"). Each value can be overridden by exporting it before the script runs.
#
# libtorch's OpenMP threads sleep instead of spinning while they wait: on a shared 2-core machine spinning threads
# of two processes starve each other (steps several times slower).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# glibc keeps the memory a training step frees instead of giving it back to the kernel and faulting it in again
# on the next step (each 4 KB page zeroed by the kernel on first touch): allocations up to 32 MB come from the heap,
# the heap is trimmed only above 4 GB free and grows in 256 MB steps. Measured on resnet56 -> resnet20 KD steps:
# 14.4k -> 2.6k page faults per step. The process keeps its peak memory until it exits.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"
