#!/usr/bin/env bash
# Split an NDJSON export of encounter records into shards by patient id, run
# `claimlint check - --format ndjson` on the shards in parallel, and merge the
# findings into one sorted NDJSON file.
#
# Usage: shard-and-check.sh [-n SHARDS] [-j JOBS] [-b patient|lines]
#                           [-o FILE] [-w DIR] INPUT... [-- CHECK_OPTION...]
#
#   -n SHARDS  number of shards (default 4)
#   -j JOBS    shards checked at the same time (default: the number of CPUs)
#   -b patient keep all records of one patient in one shard (default), so
#              patient-month rules and duplicate checks see all of them
#   -b lines   split by line count with `split -n l/SHARDS`; a patient's
#              records may then land in different shards
#   -o FILE    write the merged findings to FILE (default: standard output)
#   -w DIR     write shards, findings and logs to DIR and keep them; DIR must
#              not exist or be empty. Without -w a private temporary folder
#              is used and deleted on exit, because shards hold patient data.
#   INPUT      NDJSON files of claimlint encounter records, or gzip files of
#              them (.gz); `-` reads standard input
#   CHECK_OPTION  passed to every `claimlint check`, e.g. --fail-on warning,
#              --suppressions FILE, --baseline FILE
#
# CLAIMLINT names the claimlint binary (default: claimlint on PATH).
#
# Exit code: 2 when any shard exits 2 (input or configuration error) or
# cannot be run, else 1 when any shard exits 1 (findings at or above
# --fail-on), else 0. The summary line of every shard goes to standard error.
#
# Findings keep the `file` ("<stdin>") and `line` of their shard; record_id,
# code and pointer identify a finding across runs.

set -euo pipefail

program=${0##*/}
claimlint=${CLAIMLINT:-claimlint}
shards=4
jobs=$(nproc 2>/dev/null || echo 2)
by=patient
output=
workdir=
keep=0

usage() {
    sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    echo "Run \`$program -h\` for the options." >&2
    exit 2
}

fail() {
    echo "$program: $*" >&2
    exit 2
}

is_count() {
    [[ $1 =~ ^[1-9][0-9]*$ ]]
}

while getopts ':n:j:b:o:w:h' option; do
    case $option in
        n) shards=$OPTARG ;;
        j) jobs=$OPTARG ;;
        b) by=$OPTARG ;;
        o) output=$OPTARG ;;
        w) workdir=$OPTARG; keep=1 ;;
        h) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        :) fail "option -$OPTARG needs a value" ;;
        *) fail "unknown option -$OPTARG; run \`$program -h\` for the options" ;;
    esac
done
shift $((OPTIND - 1))

is_count "$shards" && ((shards <= 1000)) ||
    fail "-n must be a whole number of shards from 1 to 1000, not \`$shards\`"
is_count "$jobs" || fail "-j must be a whole number of jobs of at least 1, not \`$jobs\`"
[[ $by == patient || $by == lines ]] || fail "-b must be \`patient\` or \`lines\`, not \`$by\`"

inputs=()
while (($# > 0)) && [[ $1 != -- ]]; do
    inputs+=("$1")
    shift
done
(($# > 0)) && shift
check_options=("$@")
((${#inputs[@]} > 0)) || usage

for tool in "$claimlint" jq awk paste split xargs sort; do
    command -v "$tool" >/dev/null || fail "\`$tool\` was not found; install it or set CLAIMLINT to the claimlint binary"
done
for input in "${inputs[@]}"; do
    [[ $input == - || -r $input ]] || fail "cannot read input file \`$input\`"
done

if ((keep)); then
    mkdir -p "$workdir" || fail "cannot create the work folder \`$workdir\`"
    [[ -z $(ls -A "$workdir") ]] || fail "the work folder \`$workdir\` is not empty; name a new or empty folder"
else
    # mktemp -d creates the folder readable by its owner only.
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/claimlint-shards.XXXXXX") || fail "cannot create a temporary folder"
    trap 'rm -rf -- "$workdir"' EXIT
fi

# Concatenate the inputs, decompressing .gz files.
read_inputs() {
    local input
    for input in "${inputs[@]}"; do
        if [[ $input == *.gz ]]; then
            gzip -cd -- "$input"
        else
            cat -- "$input"
        fi
    done
}

# Write shard-000.ndjson ... in $workdir. Every input line goes to exactly one
# shard unchanged. Whitespace-only lines are dropped, because claimlint skips
# them and a shard of only such lines would be rejected as empty.
write_shards() {
    # An input that cannot be read (a truncated .gz, say) is an input
    # error, exit 2, like claimlint's own.
    if ! read_inputs | awk '!/^[ \t\r]*$/' >"$workdir/all.ndjson"; then
        echo "shard-and-check.sh: cannot read every input; nothing was checked" >&2
        exit 2
    fi
    if [[ $by == lines ]]; then
        split -n "l/$shards" -a 3 -d --additional-suffix=.ndjson \
            "$workdir/all.ndjson" "$workdir/shard-"
        rm -f -- "$workdir/all.ndjson"
        return
    fi
    # jq prints one shard number per input line: a hash of patient.id modulo
    # the shard count. Lines that are not JSON or have no patient id hash the
    # empty string, so they all go to one shard and are reported there. awk
    # pairs each number with the original line, so the record bytes are not
    # re-encoded.
    jq -R -r --argjson shards "$shards" '
        (try (fromjson | .patient.id | if . == null then "" else tostring end) catch "")
        | explode
        | reduce .[] as $c (7; (. * 31 + $c) % 2147483647)
        | . % $shards' "$workdir/all.ndjson" >"$workdir/keys"
    paste -d '\t' "$workdir/keys" "$workdir/all.ndjson" | awk -v dir="$workdir" '{
        tab = index($0, "\t")
        shard = sprintf("%s/shard-%03d.ndjson", dir, substr($0, 1, tab - 1))
        print substr($0, tab + 1) > shard
    }'
    rm -f -- "$workdir/all.ndjson" "$workdir/keys"
}

write_shards

# Empty shards are not run: claimlint reports empty input as an error.
shard_files=()
for file in "$workdir"/shard-*.ndjson; do
    [[ -s $file ]] && shard_files+=("$file")
done
if ((${#shard_files[@]} == 0)); then
    fail "the inputs hold no records"
fi

# Each shard writes its findings, its standard error and its exit code next
# to it. xargs only starts the jobs: the exit codes are read from the files.
export CLAIMLINT_BIN=$claimlint
printf '%s\0' "${shard_files[@]}" | xargs -0 -P "$jobs" -n 1 bash -c '
    # xargs appends the shard after the check options.
    shard=${!#}
    set -- "${@:1:$#-1}"
    base=${shard%.ndjson}
    status=0
    "$CLAIMLINT_BIN" check - --format ndjson "$@" <"$shard" >"$base.findings" 2>"$base.stderr" || status=$?
    echo "$status" >"$base.status"
' check-shard "${check_options[@]}" || true

combined=0
for shard in "${shard_files[@]}"; do
    base=${shard%.ndjson}
    name=${base##*/}
    if [[ -s $base.stderr ]]; then
        sed "s/^/$name: /" "$base.stderr" >&2
    fi
    status=$(cat "$base.status" 2>/dev/null || echo missing)
    case $status in
        0) ;;
        1) ((combined == 2)) || combined=1 ;;
        2) combined=2 ;;
        *)
            echo "$name: claimlint did not finish (exit status $status)" >&2
            combined=2
            ;;
    esac
done

# Sorting whole lines in the C locale orders findings by rule code, then by
# the fields that follow it, and works on findings larger than memory.
merge_findings() {
    local shard
    for shard in "${shard_files[@]}"; do
        [[ -f ${shard%.ndjson}.findings ]] && cat -- "${shard%.ndjson}.findings"
    done
    return 0
}
if [[ -n $output ]]; then
    merge_findings | LC_ALL=C sort >"$output"
else
    merge_findings | LC_ALL=C sort
fi

if ((combined == 2)); then
    if ((keep)); then
        echo "$program: a shard failed; its input is in $workdir (run claimlint check on that shard file for the details)" >&2
    else
        echo "$program: a shard failed; rerun with -w DIR to keep the shards and check the failing one for the details" >&2
    fi
fi
exit "$combined"
