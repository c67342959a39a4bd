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
#
# bench_small runs last: it creates and finally deletes hundreds of
# thousands of files, and on ext4 without a journal file creation is slow
# for a while after a mass delete (DESIGN.md §8).
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

for b in bench_ingest bench_read bench_refs bench_log bench_track bench_search bench_small; do
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
echo "# results in $out" >&2
