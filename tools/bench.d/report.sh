# tools/bench.d/report.sh -- tools/bench's table and target checks
# (sourced).  Input: results.tsv, one line per milterload run (columns:
# scenario socket C run msgs_s p50 p90 p99 max errors cpu_us hwm_kib), and
# the JSON of the iqload runs.  Medians over runs; VmHWM is the largest
# seen; errors are summed.

# report_json FILE KEY: one value of a flat JSON report (milterload, iqload).
report_json() {
    sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1"
}

# report_append_run SCENARIO KIND C RUN JSON: the results.tsv line of a run.
report_append_run() {
    local j=$5
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
        "$(report_json "$j" msgs_per_s)" "$(report_json "$j" p50_ms)" \
        "$(report_json "$j" p90_ms)" "$(report_json "$j" p99_ms)" "$(report_json "$j" max_ms)" \
        "$(report_json "$j" errors)" "$(report_json "$j" milter_cpu_us_per_msg)" \
        "$(report_json "$j" milter_vmhwm_kib)"
}

# _report_iq_median KEY JSONDIR: median of KEY over the iqload runs ("" if none).
_report_iq_median() {
    local f
    for f in "$2"/iq.r*.json; do
        [ -f "$f" ] && report_json "$f" "$1"
    done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# The awk part shared by the table and the targets: medians per
# scenario/socket/C, in the order first seen.
_REPORT_AWK_COMMON='
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n ? a[int((n + 1) / 2)] + 0 : 0
}
NR > 1 {
    k = $1 SUBSEP $2 SUBSEP $3
    if (!(k in seen)) { seen[k] = 1; order[++count] = k }
    rate[k] = rate[k] " " $5; p50[k] = p50[k] " " $6; p90[k] = p90[k] " " $7
    p99[k] = p99[k] " " $8; mx[k] = mx[k] " " $9; cpu[k] = cpu[k] " " $11
    errors[k] += $10; errors_all += $10; runs[k]++
    if ($12 + 0 > hwm[k] + 0) hwm[k] = $12
    if ($3 + 0 > maxc[$1 SUBSEP $2] + 0) maxc[$1 SUBSEP $2] = $3
}
function med(array, s, kind, c) { return median(array[s SUBSEP kind SUBSEP c]) }
function have(s, kind, c) { return ((s SUBSEP kind SUBSEP c) in seen) }
'

# report_table RESULTS JSONDIR
report_table() {
    local iq_rate iq_p50 iq_p99
    iq_rate=$(_report_iq_median answers_per_s "$2")
    iq_p50=$(_report_iq_median p50_ms "$2")
    iq_p99=$(_report_iq_median p99_ms "$2")
    echo
    echo "xsmtp bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
        "load $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS run(s), $MESSAGES messages a run" \
        "(opendkim: half), one message per milter connection"
    awk -F'\t' "$_REPORT_AWK_COMMON"'
    END {
        printf "%-12s %-6s %4s %9s %7s %8s %8s %8s %8s %10s %9s %7s\n", "scenario", "socket", "C",
               "msgs/s", "x noop", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu us/msg",
               "HWM MiB", "errors"
        for (i = 1; i <= count; i++) {
            split(order[i], f, SUBSEP); k = order[i]
            r = median(rate[k]); base = have("noop", f[2], f[3]) ? med(rate, "noop", f[2], f[3]) : 0
            printf "%-12s %-6s %4s %9.0f %7s %8.3f %8.3f %8.3f %8.3f %10.0f %9.1f %7d\n", f[1], f[2], f[3],
                   r, (base > 0) ? sprintf("%.2f", r / base) : "-", median(p50[k]), median(p90[k]),
                   median(p99[k]), median(mx[k]), median(cpu[k]), hwm[k] / 1024, errors[k]
        }
    }' "$1"
    if [ -n "$iq_rate" ]; then
        printf 'raw pipelined verify IQs (tools/iqload, 100 in flight, same Prosody and component):'
        printf ' %.0f answers/s, RTT p50 %s ms, p99 %s ms\n' "$iq_rate" "$iq_p50" "$iq_p99"
    fi
    echo "(msgs/s is wall clock with milterload on the same 2 cores; cpu us/msg is the"
    echo " milter's own user+system time per message, the steadier number on a shared machine)"
}

# report_targets RESULTS JSONDIR: the performance targets, met or missed.
report_targets() {
    local iq_rate
    iq_rate=$(_report_iq_median answers_per_s "$2")
    echo
    echo "targets (goals of the benchmark, not assertions):"
    awk -F'\t' -v iq="${iq_rate:-0}" "$_REPORT_AWK_COMMON"'
    function verdict(ok) { return ok ? "met" : "MISSED" }
    function line(text, value, ok) { printf "  %-52s %-26s %s\n", text, value, verdict(ok) }
    function ratio(a, b, kind, c,    x, y) {
        if (!have(a, kind, c) || !have(b, kind, c)) return -1
        x = med(rate, a, kind, c); y = med(rate, b, kind, c)
        return y > 0 ? x / y : -1
    }
    END {
        for (kind = 1; kind <= 2; kind++) {
            s = kind == 1 ? "unix" : "inet"
            if ((x = ratio("sign", "noop", s, 32)) >= 0)
                line("sign >= 0.95x noop msgs/s, C=32, " s, sprintf("%.2fx", x), x >= 0.95)
            if ((x = ratio("verify-hit", "noop", s, 32)) >= 0)
                line("verify-hit >= 0.9x noop msgs/s, C=32, " s, sprintf("%.2fx", x), x >= 0.9)
        }
        if (have("verify-miss", "unix", 32) && iq > 0) {
            x = med(rate, "verify-miss", "unix", 32)
            line("verify-miss C=32 >= 0.5x raw IQ rate, unix", sprintf("%.0f/%.0f = %.2fx", x, iq, x / iq), x / iq >= 0.5)
            x = med(p99, "verify-miss", "unix", 32)
            line("verify-miss C=32 p99 <= 20 ms, unix", sprintf("%.3f ms", x), x <= 20)
        }
        for (c = 1; c <= 32; c *= 32) {
            if (have("verify-miss", "unix", c) && have("noop", "unix", c)) {
                x = med(p50, "verify-miss", "unix", c) - med(p50, "noop", "unix", c)
                line("verify-miss p50 - noop p50 <= 1 ms, C=" c ", unix", sprintf("%+.3f ms", x), x <= 1)
            }
        }
        if ((x = ratio("sign", "opendkim", "unix", 32)) >= 0)
            line("sign >= 3x opendkim msgs/s, C=32, unix", sprintf("%.2fx", x), x >= 3)
        split("sign verify-hit verify-miss verify-none", names, " ")
        for (i = 1; i <= 4; i++) {
            k = names[i] SUBSEP "unix" SUBSEP 200
            if (k in seen)
                line("milter VmHWM <= 32 MiB at C=200 (" names[i] ")", sprintf("%.1f MiB", hwm[k] / 1024), hwm[k] <= 32768)
        }
        line("zero errors in every run", errors_all + 0 " errors", errors_all == 0)
    }' "$1"
}

# report_cpu CPU-TSV: where the CPU of one message goes at C=32 (unix),
# medians over runs, and what two cores could do at best with that.
report_cpu() {
    echo
    echo "CPU per message (us, user+system, medians) at C=32, unix; raw-iq: per IQ, 100 in flight"
    awk -F'\t' '
    function median(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n ? a[int((n + 1) / 2)] + 0 : 0
    }
    NR > 1 && (($3 == 32 && $2 == "unix") || $1 == "raw-iq") {
        k = $1
        if (!(k in seen)) { seen[k] = 1; order[++count] = k }
        for (f = 5; f <= 9; f++) v[k, f] = v[k, f] " " $f
    }
    END {
        printf "  %-12s %8s %8s %8s %10s %7s %8s %14s\n", "scenario", "milter", "driver", "prosody",
               "component", "redis", "total", "2 cores/total"
        for (i = 1; i <= count; i++) {
            k = order[i]; total = 0
            for (f = 5; f <= 9; f++) { m[f] = median(v[k, f]); if (m[f] > 0) total += m[f] }
            printf "  %-12s %8.0f %8.0f %8.0f %10.0f %7.0f %8.0f %12.0f/s\n", k, m[5], m[6], m[7], m[8],
                   m[9], total, (total > 0) ? 2e6 / total : 0
        }
    }' "$1"
    echo "  (driver: milterload, or iqload for raw-iq; Prosody and Redis serve only the"
    echo "   bench's own clients; tick-based, +-10 ms per run)"
}
