#!/usr/bin/env bash
# Runs every benchmark program of an existing build and collects their JSON
# lines. Builds nothing.
#
#   bash bench/run.sh BUILDDIR [OUTFILE]
#
# JSON lines go to stdout and to OUTFILE (default BUILDDIR/bench-results.jsonl);
# progress notes go to stderr. Environment knobs, passed through to the
# programs: MLOPS_BENCH_SIZE_MB (large-file size, default 1024),
# MLOPS_BENCH_RUNS, MLOPS_BENCH_SMALL_N, MLOPS_BENCH_REFS_N,
# MLOPS_BENCH_LOG_N, MLOPS_BENCH_DIR (scratch directory; default /var/tmp).
# bench_data (built with -Ddata=true): MLOPS_BENCH_DATA_FILES (default
# 100000), MLOPS_BENCH_CACHE (where its million-file tree is kept between
# runs; default /tmp/mlops-bench-cache), MLOPS_BENCH_MILLION=0 to skip its
# million-file step (minutes the first time), MLOPS_BENCH_SETTLE (seconds
# to wait before it, default 90).
#
# bench_small and bench_data run last: they create and finally delete
# hundreds of thousands of files, and on ext4 without a journal file
# creation is slow for a while after a mass delete (DESIGN.md §8); hence the
# pause between them.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: bash bench/run.sh BUILDDIR [OUTFILE]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
out=${2:-$build/bench-results.jsonl}
: > "$out"

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -srm), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" >&2

for b in bench_ingest bench_read bench_refs bench_log bench_track bench_search bench_registry bench_drift bench_drift_profile bench_small; do
    exe=$build/bench/$b
    if [ ! -x "$exe" ]; then
        echo "# $b: not built (configure with -Dbench=true)" >&2
        continue
    fi
    echo "# running $b" >&2
    start=$(date +%s)
    "$exe" | tee -a "$out"
    echo "# $b took $(( $(date +%s) - start )) s" >&2
done

exe=$build/bench/bench_data
if [ -x "$exe" ]; then
    args=()
    [ "${MLOPS_BENCH_MILLION:-1}" = 0 ] || args+=(--million)
    settle=${MLOPS_BENCH_SETTLE:-90}
    # ext4 without a journal will not reuse an inode deleted less than a
    # minute ago (several minutes while its inode table block is still
    # dirty) and walks past every such inode on each allocation: flush
    # first, then wait.
    echo "# waiting ${settle} s for the filesystem to recover from bench_small's deletes" >&2
    sync
    sleep "$settle"
    echo "# running bench_data ${args[*]}" >&2
    start=$(date +%s)
    "$exe" "${args[@]}" | tee -a "$out"
    echo "# bench_data took $(( $(date +%s) - start )) s" >&2
else
    echo "# bench_data: not built (configure with -Ddata=true)" >&2
fi
echo "# results in $out" >&2
