#!/usr/bin/env bash
# End-to-end throughput of `claimlint check` against a parse-only baseline.
#
# Generates (once, cached in the work folder) an NDJSON corpus of about
# --size-mb MB and --files single-record files with gen-corpus, then times
# `claimlint check --format json` at each thread count (--threads), with
# the CCM32 pack alone and with the shipped packs (CCM32 and cms-ccm), and
# the parse-baseline example (one thread) over the same inputs. Each figure is
# the median of --runs runs, measured with /usr/bin/time -v: wall time,
# records/s, MB/s of input, peak RSS, and throughput relative to the
# baseline.
#
# usage: benches/e2e.sh [--quick] [--size-mb N] [--files N] [--runs N]
#                       [--threads "1 2"] [--packs "ccm32 shipped"]
#                       [--seed N] [--workdir DIR]
#
# CLAIMLINT=/path/to/claimlint times that build instead of building one.
#
# --quick is --size-mb 64 --files 10000 --runs 1. The defaults (1024 MB,
# 100,000 files, 3 runs) need about 1.5 GB of disk and take tens of
# minutes on two cores.
set -euo pipefail

size_mb=1024
files=100000
runs=3
threads="1 2"
packs="ccm32 shipped"
seed=1
workdir="${TMPDIR:-/tmp}/claimlint-e2e"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) size_mb=64; files=10000; runs=1; shift ;;
        --size-mb) size_mb="$2"; shift 2 ;;
        --files) files="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --packs) packs="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        *) echo "e2e.sh: unknown option $1 (see the usage at the top of the script)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/time ]]; then
    echo "e2e.sh: /usr/bin/time is missing; installing the Debian package time" >&2
    apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
fi

cargo build --release --quiet --bin claimlint --example gen-corpus --example parse-baseline
target="${CARGO_TARGET_DIR:-target}/release"
claimlint="${CLAIMLINT:-$target/claimlint}"

# Average canonical record as gen-corpus writes it, in bytes (estimate,
# used only to choose the record count for the requested size).
record_bytes=2600
records=$(( size_mb * 1024 * 1024 / record_bytes ))
mkdir -p "$workdir"
ndjson="$workdir/corpus-$records-$seed.ndjson"
folder="$workdir/files-$files-$seed"
if [[ ! -s "$ndjson" ]]; then
    echo "generating $records records into $ndjson" >&2
    "$target/examples/gen-corpus" --records "$records" --seed "$seed" --format ndjson --out "$ndjson.tmp"
    mv "$ndjson.tmp" "$ndjson"
fi
if [[ ! -d "$folder" ]]; then
    echo "generating $files files into $folder" >&2
    "$target/examples/gen-corpus" --records "$files" --seed "$seed" --format files --out "$folder.tmp"
    mv "$folder.tmp" "$folder"
fi

format_args=(--format json)

script_name=e2e.sh
# shellcheck source=benches/timing.sh
source benches/timing.sh

echo "# $(nproc) cores; runs=$runs; claimlint output: ${format_args[*]} to /dev/null"
printf '%-8s %-18s %7s %9s %10s %8s %9s %9s\n' input program threads "median s" records/s MB/s "RSS MB" "x base"
report() {
    local input="$1" program="$2" threads="$3" count="$4" bytes="$5" result="$6" base="$7"
    read -r seconds rss <<<"$result"
    awk -v i="$input" -v p="$program" -v th="$threads" -v c="$count" -v b="$bytes" -v s="$seconds" -v r="$rss" -v base="$base" 'BEGIN {
        ratio = (base > 0 && s > 0) ? base / s : 1
        printf "%-8s %-18s %7s %9.2f %10.0f %8.1f %9.1f %9.2f\n", i, p, th, s, c / s, b / 1048576 / s, r / 1024, ratio
    }'
}

bench_input() {
    local label="$1" path="$2" mode="$3" count="$4"
    local bytes
    bytes=$(du -sb --apparent-size "$path" | cut -f1)
    local base
    base=$(time_median "$target/examples/parse-baseline" "$mode" "$path")
    report "$label" baseline 1 "$count" "$bytes" "$base" 0
    local base_seconds=${base%% *}
    for pack in $packs; do
        local rules=()
        [[ $pack == ccm32 ]] && rules=(--rules rules/ccm32.yaml)
        for t in $threads; do
            local result
            result=$(time_median "$claimlint" check --threads "$t" "${rules[@]}" "${format_args[@]}" "$path")
            report "$label" "claimlint $pack" "$t" "$count" "$bytes" "$result" "$base_seconds"
        done
    done
}

bench_input ndjson "$ndjson" ndjson "$records"
bench_input files "$folder" files "$files"
