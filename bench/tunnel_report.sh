#!/usr/bin/env bash
# bench/tunnel_report.sh DIR -- the tunnel comparison from a proxy-compare.sh
# run (--out DIR) with the candidates switchyard, tunnel-local, tunnel-forward
# and tunnel-go: per scenario, each tunnel path's req/s and CPU per request
# against the plain proxy (switchyard) and the Go reference (tunnel-go), as
# medians of per-round ratios (a round runs every target seconds apart), and
# the errors (non-2xx/3xx answers, failed connections: their responses count
# in req/s, as with wrk, so a path that fails fast looks fast: read this
# column) and the requests that never completed (both summed over rounds; NA
# if the load tool could not count them). Targets of the tunnel issue, reported, never asserted:
#   local small keep-alive req/s >= 0.6x the plain proxy's
#   local small keep-alive req/s >= 2x the Go reference's, at <= 0.5x its CPU per request
# Output: a table on stdout and
#   RESULT tunnel_compare scenario=S target=T rps=... cpu_us_per_req=... x_plain=... x_go=...
#          cpu_x_go=... errors=... never_completed=... rounds=...
set -euo pipefail
dir=${1:?usage: tunnel_report.sh DIR (proxy-compare.sh --out DIR)}
[[ -s $dir/runs.tsv ]] || { echo "tunnel_report.sh: no $dir/runs.tsv" >&2; exit 1; }
awk -F'\t' '
function med(a, n,    i, j, x) {
    for (i = 2; i <= n; i++) { x = a[i]; j = i - 1; while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(sc, t, ref, col, what,    r, n, a, mn, mx) {  # median (or min/max) over rounds of V[t]/V[ref]
    n = 0
    for (r = 1; r <= R; r++) if (((sc, t, r) in V) && ((sc, ref, r) in V) && V[sc, ref, r, col] > 0) {
        a[++n] = V[sc, t, r, col] / V[sc, ref, r, col]
        if (n == 1 || a[n] < mn) mn = a[n]
        if (n == 1 || a[n] > mx) mx = a[n]
    }
    if (!n) return "NA"
    if (what == "min") return sprintf("%.2f", mn)
    if (what == "max") return sprintf("%.2f", mx)
    return sprintf("%.3f", med(a, n))
}
function rng(sc, t, ref, col,    m) {
    m = ratio(sc, t, ref, col)
    return (m == "NA") ? m : m "[" ratio(sc, t, ref, col, "min") "-" ratio(sc, t, ref, col, "max") "]"
}
function stat(sc, t, col,    r, n, a) {
    n = 0
    for (r = 1; r <= R; r++) if ((sc, t, r) in V) a[++n] = V[sc, t, r, col]
    return n ? med(a, n) : ""
}
{
    V[$1, $2, $3] = 1; for (i = 4; i <= NF; i++) V[$1, $2, $3, i] = $i
    if ($3 > R) R = $3
    if (!(($1) in S)) { S[$1] = 1; SO[++ns] = $1 }
    if (!(($2) in T)) { T[$2] = 1; TO[++nt] = $2 }
    N[$1, $2]++
    E[$1, $2] += $7
    if (NF < 20 || $20 < 0) NC[$1, $2] = "NA"; else if (NC[$1, $2] != "NA") NC[$1, $2] += $20
}
END {
    for (i = 1; i <= ns; i++) {
        sc = SO[i]
        printf "\n== tunnels, %s keep-alive (medians of per-round ratios)\n", sc
        printf "%-15s %8s %8s %17s %17s %17s %7s %6s\n", "target", "req/s", "us/req", "x plain[min-max]", "x go[min-max]", "cpu x go[min-max]", "errors", "never"
        for (j = 1; j <= nt; j++) {
            t = TO[j]; if (!N[sc, t]) continue
            nc = ((sc, t) in NC) ? NC[sc, t] : "NA"
            rps = stat(sc, t, 4); us = stat(sc, t, 12)
            xp = ratio(sc, t, "switchyard", 4); xg = ratio(sc, t, "tunnel-go", 4); cg = ratio(sc, t, "tunnel-go", 12)
            printf "%-15s %8.0f %8.2f %17s %17s %17s %7d %6s\n", t, rps, us, rng(sc, t, "switchyard", 4), rng(sc, t, "tunnel-go", 4), rng(sc, t, "tunnel-go", 12), E[sc, t], nc
            L[++nl] = sprintf("RESULT tunnel_compare scenario=%s target=%s rps=%.0f cpu_us_per_req=%.2f x_plain=%s x_go=%s cpu_x_go=%s errors=%d never_completed=%s rounds=%d" \
                " x_plain_min=%s x_plain_max=%s x_go_min=%s x_go_max=%s cpu_x_go_min=%s cpu_x_go_max=%s",
                sc, t, rps, us, xp, xg, cg, E[sc, t], nc, N[sc, t],
                ratio(sc, t, "switchyard", 4, "min"), ratio(sc, t, "switchyard", 4, "max"), ratio(sc, t, "tunnel-go", 4, "min"),
                ratio(sc, t, "tunnel-go", 4, "max"), ratio(sc, t, "tunnel-go", 12, "min"), ratio(sc, t, "tunnel-go", 12, "max"))
        }
        if (N[sc, "tunnel-local"]) {
            xp = ratio(sc, "tunnel-local", "switchyard", 4); xg = ratio(sc, "tunnel-local", "tunnel-go", 4)
            cg = ratio(sc, "tunnel-local", "tunnel-go", 12)
            # errors count in req/s and make CPU per request look cheap: no target is met with them
            bad = (E[sc, "tunnel-local"] > 0 || (NC[sc, "tunnel-local"] != "NA" && NC[sc, "tunnel-local"] > 0)) ? " (errors: void)" : ""
            printf "targets (%s): local >= 0.6x plain req/s: %s (%s); >= 2x Go req/s: %s (%s); <= 0.5x Go CPU/req: %s (%s)%s\n", sc,
                xp, (!bad && xp != "NA" && xp >= 0.6) ? "met" : "not met", xg, (!bad && xg != "NA" && xg >= 2) ? "met" : "not met",
                cg, (!bad && cg != "NA" && cg <= 0.5) ? "met" : "not met", bad
        }
    }
    print ""
    for (i = 1; i <= nl; i++) print L[i]
}' "$dir/runs.tsv"
# CPU per request by process (proxy-compare.sh's procs.tsv): node(s), agent, nats-server.
if [[ -s $dir/procs.tsv ]]; then
    echo
    echo "CPU us/req by process (median over the rounds in which it used CPU):"
    awk -F'\t' '
    function med(a, n,    i, j, x) {
        for (i = 2; i <= n; i++) { x = a[i]; j = i - 1; while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        m = split($4, kv, " ")
        for (i = 1; i <= m; i++) {
            split(kv[i], p, "="); if (p[1] == "switchyard-tunn") p[1] = "switchyard-tunnel"  # comm: 15 chars
            kn = k SUBSEP p[1]
            if (!(kn in cnt)) names[k] = names[k] " " p[1]
            v[kn, ++cnt[kn]] = p[2]
        }
    }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]; split(k, st, SUBSEP); line = ""
            c = split(names[k], nm, " ")
            for (j = 1; j <= c; j++) {
                kn = k SUBSEP nm[j]; delete a
                for (r = 1; r <= cnt[kn]; r++) a[r] = v[kn, r]
                line = line sprintf(" %s=%.2f", nm[j], med(a, cnt[kn]))
            }
            printf "  %-6s %-15s%s\n", st[1], st[2], line
            L[i] = sprintf("RESULT tunnel_cpu_split scenario=%s target=%s%s", st[1], st[2], line)
        }
        print ""
        for (i = 1; i <= n; i++) print L[i]
    }' "$dir/procs.tsv"
fi
