#!/usr/bin/env bash
# claimlint against Stoplight Spectral, side by side, on the CCM32 rules.
#
# Installs @stoplight/spectral-cli (pinned below) from the npm registry into
# the work folder and builds claimlint and the gen-corpus example. Generates
# (once, cached) --records canonical records, one pretty-printed record per
# .json file. Spectral lints documents, so one record per document is the
# one form both tools read as it is. Then it:
#
# 1. checks that the Spectral ruleset (benches/spectral/ccm32.spectral.yaml)
#    and claimlint's rules/ccm32.yaml report the same (record, rule,
#    outcome) findings, first on the edge-case sample records and the pack's
#    fixtures, then on the whole corpus, and stops if they differ;
# 2. times `spectral lint --format json` and `claimlint check --format json
#    --rules rules/ccm32.yaml` over the corpus, claimlint at each
#    RAYON_NUM_THREADS of --threads (Spectral runs on one Node.js thread),
#    with /usr/bin/time -v, median of --runs runs, output sent to /dev/null;
# 3. prints wall time, records/s, records/s net of the time each tool takes
#    on a single record (start-up and rule set loading), peak RSS and the
#    ratio claimlint/Spectral in records/s.
#
# usage: benches/spectral.sh [--quick] [--records N] [--runs N]
#                            [--threads "1 2"] [--seed N] [--workdir DIR]
#
# --quick is --records 500 --runs 1. The defaults (2,000 records, 3 runs)
# take a few minutes on two cores. Set CLAIMLINT to time another claimlint
# binary instead of building this one. Nothing is sent anywhere except the
# npm install: its install scripts are skipped (@scarf/scarf, a dependency,
# would report the install) and npm's audit, fund and update checks are off.
set -euo pipefail

spectral_version=6.16.3
records=2000
runs=3
threads="1 2"
seed=1
workdir="${TMPDIR:-/tmp}/claimlint-spectral"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) records=500; runs=1; shift ;;
        --records) records="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        *) echo "spectral.sh: unknown option $1 (see the usage at the top of the script)" >&2; exit 2 ;;
    esac
done
if ! [[ "$records" =~ ^[1-9][0-9]*$ && "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "spectral.sh: --records and --runs need a positive whole number" >&2
    exit 2
fi

cd "$(dirname "$0")/.."
repo="$PWD"
if [[ ! -x /usr/bin/time ]]; then
    echo "spectral.sh: /usr/bin/time is missing; installing the Debian package time" >&2
    apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "spectral.sh: $tool is not installed; install Node.js 18.18 or later (Debian: apt-get install nodejs npm)" >&2
        exit 2
    fi
done

mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)

# Spectral, installed locally so that no global npm state is touched.
spectral_prefix="$workdir/spectral-cli-$spectral_version"
spectral="$spectral_prefix/node_modules/.bin/spectral"
if [[ ! -x "$spectral" ]]; then
    echo "installing @stoplight/spectral-cli@$spectral_version into $spectral_prefix" >&2
    mkdir -p "$spectral_prefix"
    SCARF_ANALYTICS=false npm install --prefix "$spectral_prefix" --save-exact --ignore-scripts \
        --no-audit --no-fund --update-notifier=false --loglevel=error \
        "@stoplight/spectral-cli@$spectral_version" >&2
fi
installed_version=$("$spectral" --version)
if [[ "$installed_version" != "$spectral_version" ]]; then
    echo "spectral.sh: $spectral reports version $installed_version, expected $spectral_version; delete $spectral_prefix and run again" >&2
    exit 1
fi
ruleset="$repo/benches/spectral/ccm32.spectral.yaml"
pack="$repo/rules/ccm32.yaml"

target="${CARGO_TARGET_DIR:-target}/release"
if [[ -n "${CLAIMLINT:-}" ]]; then
    cargo build --release --quiet --example gen-corpus
    claimlint="$CLAIMLINT"
else
    cargo build --release --quiet --bin claimlint --example gen-corpus
    claimlint="$target/claimlint"
fi
if [[ ! -x "$claimlint" ]]; then
    echo "spectral.sh: claimlint binary $claimlint is missing or not executable" >&2
    exit 2
fi

folder="$workdir/files-$records-$seed"
if [[ ! -d "$folder" ]]; then
    echo "generating $records files into $folder" >&2
    "$target/examples/gen-corpus" --records "$records" --seed "$seed" --format files --out "$folder.tmp"
    mv "$folder.tmp" "$folder"
fi
# The first record alone, to measure each tool's fixed cost.
single="$workdir/single-$seed"
if [[ ! -d "$single" ]]; then
    mkdir -p "$single.tmp"
    cp "$(find "$folder" -name '*.json' | sort | head -1)" "$single.tmp/"
    mv "$single.tmp" "$single"
fi

# Runs claimlint with only the CCM32 pack; exit codes 0 and 1 (findings)
# both count as success.
run_claimlint() {
    local status=0
    "$claimlint" check --format json --rules "$pack" "$@" || status=$?
    [[ $status -le 1 ]] || { echo "spectral.sh: claimlint check $* exited with $status" >&2; return 1; }
}

# Runs Spectral on each argument, a folder or a file; exit codes 0 and 1
# (findings) both count as success.
run_spectral() {
    local globs=() path status=0
    for path in "$@"; do
        if [[ -d "$path" ]]; then globs+=("$path/*.json"); else globs+=("$path"); fi
    done
    "$spectral" lint --ruleset "$ruleset" --format json --quiet "${globs[@]}" || status=$?
    [[ $status -le 1 ]] || { echo "spectral.sh: spectral lint ${globs[*]} exited with $status" >&2; return 1; }
}

# Prints how far the two tools agree on the inputs, and fails if they differ.
check_agreement() {
    local label="$1"
    shift
    echo "## agreement on $label"
    run_claimlint "$@" >"$workdir/claimlint.json"
    run_spectral "$@" >"$workdir/spectral.json"
    node "$repo/benches/spectral/compare.js" "$workdir/claimlint.json" "$workdir/spectral.json" || {
        echo "spectral.sh: the rulesets disagree on $label; the timings would not compare the same work" >&2
        exit 1
    }
}

check_agreement "the sample and the pack fixtures" \
    "$repo/benches/spectral/sample" "$repo"/rules/ccm32/tests/*/*.json
check_agreement "the $records-record corpus" "$folder"

script_name=spectral.sh
# shellcheck source=benches/timing.sh
source benches/timing.sh

spectral_command=("$spectral" lint --ruleset "$ruleset" --format json --quiet)
claimlint_command=("$claimlint" check --format json --rules "$pack")
bytes=$(du -sb --apparent-size "$folder" | cut -f1)

echo
echo "# $(nproc) cores; runs=$runs; $records records, one pretty-printed record per file, $((bytes / 1024)) KiB"
echo "# Spectral $spectral_version on Node.js $(node --version); claimlint $claimlint"
printf '%-10s %7s %9s %10s %9s %10s %9s %11s\n' program threads "median s" records/s "1 rec s" "net rec/s" "RSS MB" "x Spectral"
report() {
    local program="$1" threads="$2" result="$3" single_result="$4" spectral_seconds="$5"
    local seconds rss single_seconds
    read -r seconds rss <<<"$result"
    single_seconds=${single_result%% *}
    awk -v p="$program" -v th="$threads" -v c="$records" -v s="$seconds" -v one="$single_seconds" -v r="$rss" -v base="$spectral_seconds" 'BEGIN {
        net = (s > one && c > 1) ? (c - 1) / (s - one) : 0
        ratio = (s > 0) ? base / s : 0
        printf "%-10s %7s %9.2f %10.0f %9.2f %10.0f %9.1f %11.2f\n", p, th, s, c / s, one, net, r / 1024, ratio
    }'
}

spectral_single=$(time_median "${spectral_command[@]}" "$single/*.json")
spectral_result=$(time_median "${spectral_command[@]}" "$folder/*.json")
spectral_seconds=${spectral_result%% *}
report spectral 1 "$spectral_result" "$spectral_single" "$spectral_seconds"
for t in $threads; do
    claimlint_single=$(RAYON_NUM_THREADS=$t time_median "${claimlint_command[@]}" "$single")
    claimlint_result=$(RAYON_NUM_THREADS=$t time_median "${claimlint_command[@]}" "$folder")
    report claimlint "$t" "$claimlint_result" "$claimlint_single" "$spectral_seconds"
done
