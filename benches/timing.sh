# Timing helpers shared by benches/e2e.sh and benches/spectral.sh; source
# this file after setting `runs` (the number of runs per figure) and
# `script_name` (used in error messages). Needs /usr/bin/time (GNU time).

# Prints "SECONDS RSS_KB" for one run of the command. Exit codes 0 and 1
# (claimlint's "findings", Spectral's "problems found") both count as
# success; any other code stops the script.
time_once() {
    local log
    log=$(mktemp)
    local status=0
    /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$log.stderr" || status=$?
    if [[ $status -gt 1 ]]; then
        echo "$script_name: '$*' exited with $status:" >&2
        head -5 "$log.stderr" >&2
        rm -f "$log" "$log.stderr"
        exit 1
    fi
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /Maximum resident set size/ { rss = $2 }
        END { printf "%.3f %d\n", s, rss }' "$log"
    rm -f "$log" "$log.stderr"
}

# Prints the median wall time and the median peak RSS of `runs` runs.
time_median() {
    local samples=()
    for ((run = 0; run < runs; run++)); do
        samples+=("$(time_once "$@")")
    done
    local seconds rss
    seconds=$(printf '%s\n' "${samples[@]}" | cut -d' ' -f1 | sort -n | median)
    rss=$(printf '%s\n' "${samples[@]}" | cut -d' ' -f2 | sort -n | median)
    echo "$seconds $rss"
}

# Prints the median of sorted numbers on standard input.
median() {
    awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else print (v[m] + v[m + 1]) / 2 }'
}
