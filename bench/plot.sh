#!/usr/bin/env bash
# Turns a bench/run.sh result directory into the plots of docs/BENCHMARKS.md:
#   proxy-rps.png      req/s relative to HAProxy, per scenario and target
#   proxy-cpu.png      proxy CPU microseconds per request, per scenario and target
#   table-memory.png   route table bytes per endpoint against endpoint count
#   table-lookup.png   route table lookup time against endpoint count
# usage: bench/plot.sh RESULT_DIR [PLOT_DIR (default docs/img)]
set -euo pipefail
in=${1:?usage: bench/plot.sh RESULT_DIR [PLOT_DIR]}
out=${2:-$(dirname "$0")/../docs/img}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# RESULT scenario=S target=T ... ratio_haproxy=R ... target_cpu_us_per_req=C ...
grep -h '^RESULT scenario=' "$in"/compare*.txt "$in"/compare/summary.txt 2>/dev/null | sort -u |
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         if (v["target"] != "direct") print v["scenario"], v["target"], v["ratio_haproxy"], v["target_cpu_us_per_req"] }' \
  >"$tmp/proxy.dat"
if [ -s "$tmp/proxy.dat" ]; then
  targets=$(awk '{print $2}' "$tmp/proxy.dat" | awk '!seen[$0]++' | tr '\n' ' ')
  for t in $targets; do awk -v t="$t" '$2 == t {print $1, $3, $4}' "$tmp/proxy.dat" >"$tmp/p-$t.dat"; done
  plot_rps="" plot_cpu="" col=0 n=$(echo $targets | wc -w)
  for t in $targets; do
    off=$(awk -v c=$col -v n=$n 'BEGIN{printf "%.3f", (c - (n-1)/2) * 0.8 / n}')
    plot_rps+="'$tmp/p-$t.dat' using (\$0+$off):2:(0.8/$n):xtic(1) with boxes title '$t', "
    plot_cpu+="'$tmp/p-$t.dat' using (\$0+$off):3:(0.8/$n):xtic(1) with boxes title '$t', "
    col=$((col + 1))
  done
  gnuplot <<GP
set terminal pngcairo size 800,450
set style fill solid 0.8 border -1
set key top right
set grid ytics
set xrange [-0.6:2.6]
set output '$out/proxy-rps.png'
set title 'req/s relative to HAProxy 2.6 (one core each, same backend; higher is better)'
set yrange [0:*]
plot ${plot_rps%, }, 1 with lines lc rgb 'black' dt 2 notitle
set output '$out/proxy-cpu.png'
set title 'proxy CPU per request, microseconds (lower is better)'
plot ${plot_cpu%, }
GP
fi

# table_bench JSON: BM_Memory/<kind>/<endpoints> (rss_bytes_per_endpoint) and
# BM_Lookup/<endpoints> (median of the repetitions, ns).
if ls "$in"/table*.json >/dev/null 2>&1; then
  python3 - "$tmp" "$in"/table*.json <<'PY'
import json, re, sys
mem, look = {}, {}
for path in sys.argv[2:]:
    for b in json.load(open(path)).get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if name.startswith("BM_Memory/plain/") and "rss_bytes_per_endpoint" in b:
            mem[int(b["endpoints"])] = b["rss_bytes_per_endpoint"]
        m = re.match(r"BM_Lookup/(\d+)$", name)
        if m and b.get("aggregate_name", "median") == "median":
            look[int(m.group(1))] = b["real_time"]
for fname, rows in (("mem.dat", mem), ("look.dat", look)):
    with open(f"{sys.argv[1]}/{fname}", "w") as f:
        for n in sorted(rows):
            f.write(f"{n} {rows[n]}\n")
PY
  gnuplot <<GP
set terminal pngcairo size 700,420
set logscale x
set grid
set key off
set xlabel 'endpoints in the table'
set yrange [0:*]
set output '$out/table-memory.png'
set title 'route table RSS per endpoint, bytes (target <= 250)'
plot '$tmp/mem.dat' using 1:2 with linespoints lw 2, 250 with lines dt 2
set output '$out/table-lookup.png'
set title 'route lookup time, median ns (target < 150)'
plot '$tmp/look.dat' using 1:2 with linespoints lw 2, 150 with lines dt 2
GP
fi
ls -1 "$out"
