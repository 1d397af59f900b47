#!/bin/bash
# run.sh — `make bench`: every figure of the performance budget measured side
# by side in one run, printed as a table and written to bench/RESULTS.md.
#
# Environment: BUILD (build), BENCH_ROUNDS (30 alternating rounds),
# BENCH_FRAMES (1000 redraw frames), BENCH_OUT (bench/RESULTS.md),
# BENCH_PYTHONS (the versions to walk through; every worker built),
# BENCH_OLD (an older ministry-tutor binary whose --list is timed beside
# this one's, e.g. a release that still linked libpython).
# Needs the programs `make bench` builds first, plus GNU time, strace and
# tmux (idle CPU).  Exit status 0 when every figure could be measured (a
# missed budget is a result, not an error), 1 when a command failed.
set -u
cd "$(dirname "$0")/.." || exit 1

B=${BUILD:-build}
ROUNDS=${BENCH_ROUNDS:-30}
FRAMES=${BENCH_FRAMES:-1000}
OUT=${BENCH_OUT:-bench/RESULTS.md}
# A private copy of the frontend and its workers, so that a rebuild in the
# tree during the run cannot change what is measured; the frontend finds the
# workers beside it, its lessons beside its folder, as the real one finds
# lessons/ beside build/.
SNAP=$B/bench/snap
rm -rf "$SNAP/bin"
mkdir -p "$SNAP/bin"
cp "$B/ministry-tutor" "$B"/ministry-worker-3.* "$SNAP/bin/"
ln -sfn "$PWD/lessons" "$SNAP/lessons"
SNAPBIN=$(cd "$SNAP/bin" && pwd)
MT=$SNAP/bin/ministry-tutor
LESSONS=$PWD/lessons
# The versions: every worker built (or BENCH_PYTHONS); the one the frontend
# picks by default (the system python3's, else the newest) is DEF, the one
# the single-version figures use.
VERSIONS=${BENCH_PYTHONS:-$(cd "$SNAP/bin" && ls ministry-worker-3.* | sed 's/ministry-worker-//' | sort -t. -k2 -n | tr '\n' ' ')}
sysv=$(readlink /usr/bin/python3 | sed -n 's/^python\(3\.[0-9]*\)$/\1/p')
DEF=
for v in $VERSIONS; do DEF=$v; done
for v in $VERSIONS; do [ "$v" = "$sysv" ] && DEF=$v; done
REF="$B/bench/embed_ref-$DEF bench/reference.py"
PY=/usr/bin/python$DEF
tmp=$(mktemp -d)
tsock=mt-bench-$$
cleanup() {
    tmux -L "$tsock" kill-server 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
note() { printf '%s\n' "$*" >> "$tmp/notes"; }
say() { printf 'bench: %s\n' "$*" >&2; }
: > "$tmp/notes"

# ---- what there is to measure --------------------------------------------

nstages=$($MT --list 2>/dev/null | grep -c '^ *[0-9]')
say "$nstages stages; CPython $VERSIONS(default $DEF); $ROUNDS alternating rounds"
# Per version: the walkthrough and the reference in that version's libpython.
walk=()
for v in $VERSIONS; do
    if [ ! -x "$B/bench/embed_ref-$v" ]; then
        note "CPython $v: no \`$B/bench/embed_ref-$v\` (python$v-dev missing?): its walkthrough is not measured."
        continue
    fi
    if ! $MT --python "$v" --plain > "$tmp/plain-$v.out" 2> "$tmp/plain-$v.err"; then
        say "ministry-tutor --python $v --plain failed:"; tail -5 "$tmp/plain-$v.err" >&2; failed=1
        continue
    fi
    if ! "$B/bench/embed_ref-$v" bench/reference.py > "$tmp/ref-$v.out" 2> "$tmp/ref-$v.err"; then
        say "the reference failed on $v:"; tail -5 "$tmp/ref-$v.err" >&2; failed=1
        continue
    fi
    walk+=("$v")
done
cp "$tmp/plain-$DEF.out" "$tmp/plain.out" 2>/dev/null || : > "$tmp/plain.out"
cp "$tmp/ref-$DEF.out" "$tmp/ref.out" 2>/dev/null || : > "$tmp/ref.out"
[ "$nstages" -lt 7 ] && note "Only $nstages of the 7 lessons exist: the walkthrough covers stages 1-$nstages, the reference all 7 (so the ratio flatters this project)."
note "Output: \`--plain\` $(wc -l < "$tmp/plain.out") lines / $(wc -c < "$tmp/plain.out") bytes; the reference $(wc -l < "$tmp/ref.out") lines / $(wc -c < "$tmp/ref.out") bytes (values and dis listings, no dumps)."

EXPORT_DIR=$B/bench/export
rm -rf "$EXPORT_DIR"
export_ok=0
if $MT --export "$EXPORT_DIR" --force > /dev/null 2> "$tmp/export.err"; then
    export_ok=1
    note "\`--export\` of all stages in all formats writes $(find "$EXPORT_DIR" -type f | wc -l) files ($(du -sk "$EXPORT_DIR" | cut -f1) KiB)."
else
    note "\`--export\` not measured: $(head -1 "$tmp/export.err")"
fi

# ---- 1-3: whole runs, alternating ------------------------------------------

echo > "$tmp/empty.py"
cmds=()
for v in "${walk[@]}"; do
    cmds+=("plain-$v=$MT --python $v --plain" "ref-$v=$B/bench/embed_ref-$v bench/reference.py")
done
cmds+=("list=$MT --list" "pypass=$PY -I -c pass"
      "stage1=$MT --plain --stage 1" "emptyref=$B/bench/embed_ref-$DEF $tmp/empty.py")
[ $export_ok = 1 ] && cmds+=("export=$MT --export $EXPORT_DIR --force")
old_list=0
if [ -n "${BENCH_OLD:-}" ] && "$BENCH_OLD" --list > /dev/null 2>&1; then
    old_list=1
    old_version=$("$BENCH_OLD" --version | awk '{ print $2 }')
    cmds+=("listold=$BENCH_OLD --list")
fi
say "timing: ${#cmds[@]} commands × $ROUNDS rounds"
$B/bench/bench -n "$ROUNDS" -w 2 -r "$tmp/raw.tsv" "${cmds[@]}" > "$tmp/times.tsv" || failed=1

# field of a command's summary line: 4 wall median, 5 p25, 6 p75, 7 min,
# 8 cpu median, 9 rss median, 10 rss max (see bench.c)
get() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$tmp/times.tsv"; }
# The per-round ratios a/b (same round, side by side): "median p25 p75 min
# max", or "-" when either was not measured.
round_stats() {
    awk -F'\t' -v a="$1" -v b="$2" '
        $1 == a { x[na++] = $2 } $1 == b { y[nb++] = $2 }
        END { n = na < nb ? na : nb; if (n == 0) { print "-"; exit }
              for (i = 0; i < n; i++) r[i] = x[i] / y[i]
              for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
              printf "%.2f %.2f %.2f %.2f %.2f\n", n % 2 ? r[int(n / 2)] : (r[n / 2 - 1] + r[n / 2]) / 2,
                     r[int((n - 1) / 4)], r[int(3 * (n - 1) / 4)], r[0], r[n - 1] }' "$tmp/raw.tsv"
}
round_ratio() { round_stats "$1" "$2" | awk '{ print $1 }'; }
# "1.02 (0.95–1.10)": the median per-round ratio and its quartiles.
round_spread() { round_stats "$1" "$2" | awk '$1 == "-" { print "-"; next } { printf "%s (%s–%s)", $1, $2, $3 }'; }

# Peak memory: GNU time's figure for each, then every process of the tree.
/usr/bin/time -v -o "$tmp/time.plain" $MT --python "$DEF" --plain > /dev/null 2>&1
/usr/bin/time -v -o "$tmp/time.ref" $REF > /dev/null 2>&1
gnu_plain=$(awk -F': ' '/Maximum resident/ { print $2 }' "$tmp/time.plain" 2>/dev/null)
gnu_ref=$(awk -F': ' '/Maximum resident/ { print $2 }' "$tmp/time.ref" 2>/dev/null)
gnu_plain=${gnu_plain:--} gnu_ref=${gnu_ref:--}
for i in 1 2 3; do
    $B/bench/bench -t "plain=$MT --python $DEF --plain" > "$tmp/tree.plain.$i"
    $B/bench/bench -t "ref=$REF" > "$tmp/tree.ref.$i"
done
med3() { sort -n | sed -n 2p; }
tree_plain=$(for i in 1 2 3; do awk '$1 == "sum" { print $NF }' "$tmp/tree.plain.$i"; done | med3)
tree_ref=$(for i in 1 2 3; do awk '$1 == "sum" { print $NF }' "$tmp/tree.ref.$i"; done | med3)
tree_detail=$(awk -F'\t' '$1 != "sum" { printf "%s%s (pid %s) %s KiB", s, $2, $1, $3; s = ", " }' "$tmp/tree.plain.2")

# ---- where the walkthrough's time goes: in-process phases -----------------

say "phases: 7 in-process walkthroughs"
: > "$tmp/steps.tsv"
for i in 1 2 3 4 5 6 7; do
    $B/bench/steps -l "$LESSONS" | sed "s/^/$i\t/" >> "$tmp/steps.tsv" || failed=1
done
# phase name, median ms, count — in the order the program prints them
awk -F'\t' '
    !($2 in seen) { seen[$2] = 1; order[n++] = $2 }
    { v[$2, c[$2]++] = $3; cnt[$2] = $4 }
    END { for (i = 0; i < n; i++) { p = order[i]; m = c[p]
              for (a = 0; a < m; a++) x[a] = v[p, a]
              for (a = 0; a < m; a++) for (b = a + 1; b < m; b++) if (x[b] < x[a]) { t = x[a]; x[a] = x[b]; x[b] = t }
              printf "%s\t%.2f\t%s\n", p, m % 2 ? x[int(m / 2)] : (x[m / 2 - 1] + x[m / 2]) / 2, cnt[p] } }' \
    "$tmp/steps.tsv" > "$tmp/phases.tsv"

# ---- 4: redraw ----------------------------------------------------------------

redraw_big=- redraw_small=- redraw_what=
if [ -x $B/bench/redraw ]; then
    say "redraw: $FRAMES frames × 2 sizes × 3 runs"
    for i in 1 2 3; do
        MINISTRY_WORKER_DIR=$SNAPBIN $B/bench/redraw -l "$LESSONS" "$FRAMES" \
            > "$tmp/redraw.$i" 2> "$tmp/redraw.err" || { failed=1; say "redraw: $(tail -1 "$tmp/redraw.err")"; }
    done
    redraw_big=$(for i in 1 2 3; do awk '$1 == 200 { print $4 }' "$tmp/redraw.$i"; done | med3)
    redraw_small=$(for i in 1 2 3; do awk '$1 == 80 { print $4 }' "$tmp/redraw.$i"; done | med3)
    redraw_what=$(awk 'NR == 1 { printf "stage %s step %s: %s region%s, %s bytes", $5, $6, $7, $7 == 1 ? "" : "s", $8 }' "$tmp/redraw.1")
    note "Redraw: median of 3 runs of $FRAMES frames each, rendering $redraw_what to an off-screen terminal."
else
    note "Redraw not measured: the TUI does not define mt_tui_bench_redraw yet."
fi

# ---- 5: symbols, cold and warm ---------------------------------------------
# Cold: a private copy of the debug file, evicted from the page cache before
# each run (the system copy may be mapped by other running workers, whose
# pages cannot be evicted).

libpy=$(ldd "$SNAP/bin/ministry-worker-$DEF" | awk '/libpython3\.[0-9]*\.so/ { print $3 }')
bid=$(readelf -n "$libpy" | awk '/Build ID/ { print $3 }')
dbg=/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug
DBGDIR=$PWD/$B/bench/debug
sym_cold=- sym_warm=- sym_again=- sym_name=-
if [ -n "$bid" ] && [ -r "$dbg" ]; then
    mkdir -p "$DBGDIR/.build-id/${bid:0:2}"
    cp "$dbg" "$DBGDIR/.build-id/${bid:0:2}/"
    : > "$tmp/sym.tsv"
    for i in 1 2 3 4 5 6 7 8 9; do
        MINISTRY_DEBUG_DIR=$DBGDIR $B/bench/symbols cold >> "$tmp/sym.tsv" || failed=1
        MINISTRY_DEBUG_DIR=$DBGDIR $B/bench/symbols warm >> "$tmp/sym.tsv" || failed=1
    done
    med() { awk -F'\t' -v m="$1" -v f="$2" '$1 == m { print $f }' "$tmp/sym.tsv" | sort -g | sed -n 5p; }
    sym_cold=$(med cold 3) sym_warm=$(med warm 3)
    sym_again=$(med warm 4) sym_name=$(med warm 5)
    cold_res=$(awk -F'\t' '$1 == "cold" { print $2 }' "$tmp/sym.tsv" | sort -g | tail -1)
    note "Symbols: median of 9 fresh processes each; open + build-id check + symbol table + long_add + the folding site (_PyAST_Optimize, optimize_basic_block from 3.14). Cold runs left at most ${cold_res}% of the debug file in the page cache. Once loaded, both lookups again take ${sym_again} µs; the first address → name (which sorts the table) ${sym_name} ms more."
else
    note "Symbols not measured: no debug file $dbg."
fi

# ---- idle CPU while the TUI waits for a key ---------------------------------

idle=- idle_detail=
tmux -L "$tsock" -f /dev/null new-session -d -x 200 -y 60 \
    "env MINISTRY_LESSONS=$LESSONS XDG_STATE_HOME=$tmp/state TERM=xterm-256color $PWD/$MT --stage 3; sleep 30"
sleep 3
pane=$(tmux -L "$tsock" display -p '#{pane_pid}' 2>/dev/null)
# The pane runs sh -c "env … ministry-tutor …; sleep": the frontend is the
# pane's child named ministry-tutor, the worker that one's child.
front=
[ -n "$pane" ] && front=$(pgrep -P "$pane" -x ministry-tutor | head -1)
cpu_ns() {   # on-CPU time of a process and its threads, in ns
    awk '{ s += $1 } END { print s + 0 }' /proc/"$1"/task/*/schedstat 2>/dev/null
}
csw() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
if [ -n "$front" ] && [ -n "$pane" ]; then
    worker=$(pgrep -P "$front" | head -1)
    f0=$(cpu_ns "$front") w0=$(cpu_ns "${worker:-$front}") c0=$(csw "$front")
    sleep 5
    f1=$(cpu_ns "$front") w1=$(cpu_ns "${worker:-$front}") c1=$(csw "$front")
    state=$(sed 's/.*) //' "/proc/$front/stat" | cut -d' ' -f1)
    wchan=$(cat "/proc/$front/wchan" 2>/dev/null)
    idle=$(awk -v a="$f0" -v b="$f1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
    idle_w=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
    idle_detail="frontend pid $front in state $state ($wchan), $((c1 - c0)) wake-ups in 5 s; worker ${worker:-none}: ${idle_w} ms"
    note "Idle: the TUI at stage 3 in a 200×60 tmux pane, left alone 3 s, then 5 s of on-CPU time from /proc/PID/task/*/schedstat: $idle_detail."
else
    note "Idle CPU not measured: no TUI frontend waiting for a key (it exited or is not built yet)."
fi
tmux -L "$tsock" kill-server 2>/dev/null

# ---- no accidental slowness: processes, files ------------------------------

: > "$tmp/strace.txt"
strace -f -qq -e trace=clone,clone3,fork,vfork,execve,openat -o "$tmp/strace.txt" \
    $MT --python "$DEF" --plain > /dev/null 2>&1
forks=-
if [ -s "$tmp/strace.txt" ]; then
forks=$(grep -E '(clone|clone3|fork|vfork)\(' "$tmp/strace.txt" | grep -v 'resumed>' \
        | grep -vc CLONE_THREAD)
threads=$(grep -E 'clone3?\(' "$tmp/strace.txt" | grep -v 'resumed>' | grep -c CLONE_THREAD)
execs=$(grep -c 'execve(' "$tmp/strace.txt")
lesson_opens=$(grep -E 'openat\(.*/lessons/[^"]*\.py"' "$tmp/strace.txt" | grep -v '= -1' \
               | sed 's/.*lessons\/\([^"]*\)".*/\1/' | sort | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')
nlesson_files=$(ls "$LESSONS"/*.py 2>/dev/null | wc -l)
debug_opens=$(grep -E 'openat\(.*\.debug"' "$tmp/strace.txt" | grep -vc '= -1')
note "One \`--plain\` session under strace -f: $forks process(es) forked (the worker), $threads thread(s) started, $execs execve; each of the $nlesson_files lesson files opened ${lesson_opens:-0}time(s); the debug file opened $debug_opens time(s)."
[ "$threads" -gt 0 ] && note "Threads started during the session: $threads (the step time limit is a timer, not a thread)."
else
    note "Processes and files not counted: strace did not run."
fi

# ---- the table ---------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
holds() {   # value op limit
    awk -v v="$1" -v o="$2" -v l="$3" 'BEGIN {
        if (v == "-" || v == "") { print "not measured"; exit }
        ok = (o == "<=") ? v <= l : (o == "==") ? v == l : 0
        print ok ? "yes" : "NO" }'
}
ms() { [ "${1:--}" = - ] && echo - || printf '%.1f ms' "$1"; }
kib() { [ "${1:--}" = - ] && echo - || printf '%d KiB' "$1"; }

rows=()
row() { rows+=("$1|$2|$3|$4|$5|$6"); }
# Whole runs: the ratio is the median of the per-round ratios (the two
# commands of a round ran side by side); the times are medians over rounds.
for v in $VERSIONS; do
    pl=$(get "plain-$v" 4) rf=$(get "ref-$v" 4) r=$(round_ratio "plain-$v" "ref-$v")
    row "1 walkthrough on $v, wall (median)" "$(ms "${pl:--}")" "$(ms "${rf:--}")" "$r" "<= 1.25x" "$(holds "$r" "<=" 1.25)"
done
rf=$(get "ref-$DEF" 4)
r=$(ratio "$gnu_plain" "$gnu_ref"); row "1 walkthrough on $DEF, peak RSS (GNU time)" "$(kib "$gnu_plain")" "$(kib "$gnu_ref")" "$r" "<= 1.3x" "$(holds "$r" "<=" 1.3)"
r=$(ratio "$tree_plain" "$tree_ref"); row "1 walkthrough on $DEF, RSS summed over processes" "$(kib "$tree_plain")" "$(kib "$tree_ref")" "$r" "(for information)" "-"
ls_=$(get list 4) pp=$(get pypass 4)
r=$(round_ratio list pypass); row "2 --list vs python$DEF -I -c pass" "$(ms "$ls_")" "$(ms "$pp")" "$r" "<= 2x" "$(holds "$r" "<=" 2)"
if [ $old_list = 1 ]; then
    lo=$(get listold 4)
    r=$(round_ratio list listold); row "2 --list vs $old_version's (BENCH_OLD)" "$(ms "$ls_")" "$(ms "$lo")" "$r" "< 1x" "$(holds "$r" "<=" 0.99)"
fi
s1=$(get stage1 4)
r=$(round_ratio stage1 pypass); row "2 --plain --stage 1 vs python$DEF -I -c pass" "$(ms "$s1")" "$(ms "$pp")" "$r" "(for information)" "-"
r=$(round_ratio stage1 "ref-$DEF"); row "2 --plain --stage 1 vs the reference" "$(ms "$s1")" "$(ms "$rf")" "$r" "(for information)" "-"
if [ $export_ok = 1 ]; then
    ex=$(get export 4)
    r=$(round_ratio export "ref-$DEF"); row "3 --export, all stages and formats" "$(ms "$ex")" "$(ms "$rf")" "$r" "<= 1.5x" "$(holds "$r" "<=" 1.5)"
else
    row "3 --export, all stages and formats" "-" "$(ms "$rf")" "-" "<= 1.5x" "not measured"
fi
us() { [ "${1:--}" = - ] && echo - || printf '%s us' "$1"; }
row "4 redraw 200x60, per frame" "$(us "$redraw_big")" "-" "-" "<= 2000 us" "$(holds "$redraw_big" "<=" 2000)"
row "4 redraw 80x24, per frame" "$(us "$redraw_small")" "-" "-" "<= 2000 us" "$(holds "$redraw_small" "<=" 2000)"
row "5 symbols, cold" "$(ms "$sym_cold")" "-" "-" "<= 5 ms" "$(holds "$sym_cold" "<=" 5)"
row "5 symbols, warm" "$(ms "$sym_warm")" "-" "-" "<= 5 ms" "$(holds "$sym_warm" "<=" 5)"
row "idle CPU in 5 s, TUI waiting for a key" "$(ms "$idle")" "-" "-" "~0 (<= 10 ms)" "$(holds "$idle" "<=" 10)"
row "worker processes per --plain session" "$forks" "-" "-" "1" "$(holds "$forks" "==" 1)"

printf '\n%-46s %14s %14s %6s  %-18s %s\n' figure "this project" reference ratio budget holds
for x in "${rows[@]}"; do
    IFS='|' read -r a b c d e f <<< "$x"
    printf '%-46s %14s %14s %6s  %-18s %s\n' "$a" "$b" "$c" "$d" "$e" "$f"
done
echo

# ---- bench/RESULTS.md ------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# Benchmark results"
    echo
    echo "Generated by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "Machine: $(nproc) CPUs, $cpu; Linux $(uname -r); CPython $(for v in $VERSIONS; do /usr/bin/python$v -c 'import sys; print(sys.version.split()[0])' 2>/dev/null; done | tr '\n' ' ')(single-version figures: $DEF, $libpy); ministry-tutor $($MT --version | awk '{ print $2 }'), $nstages stages."
    echo
    echo "Whole runs are measured side by side: $ROUNDS rounds (after 2 warm-up rounds), each running every command once in an order that rotates from round to round. Times are medians over the rounds; a ratio is the median of the per-round ratios of the two commands (their quartiles in the notes). The reference is \`bench/reference.py\` — the same seven patches and the lessons' demonstrations as one bare ctypes script (no host, no dumps) — run by \`bench/embed_ref-3.X\`, a minimal embedding host with the worker's isolated PyConfig, linked with the same libpython3.X as that version's worker."
    echo
    echo "| figure | this project | reference | ratio | budget | holds |"
    echo "|---|---|---|---|---|---|"
    for x in "${rows[@]}"; do
        IFS='|' read -r a b c d e f <<< "$x"
        echo "| $a | $b | $c | $d | $e | $f |"
    done
    echo
    echo "## Notes"
    echo
    echo "- Per-round ratios, median (p25–p75), min–max: $(for v in $VERSIONS; do printf 'walkthrough / reference on %s: %s, %s; ' "$v" "$(round_spread "plain-$v" "ref-$v")" "$(round_stats "plain-$v" "ref-$v" | awk '{ print $4 "–" $5 }')"; done)--list / python$DEF -I -c pass: $(round_spread list pypass)$([ $old_list = 1 ] && echo "; --list / $old_version's --list: $(round_spread list listold)")$([ $export_ok = 1 ] && echo "; export / reference: $(round_spread export "ref-$DEF")")."
    echo "- Peak RSS: GNU time reports ru_maxrss of wait4 on its child, which Linux gives as the largest resident set of any one process in the waited-for tree (the child or a descendant it reaped), not their sum. ministry-tutor runs as two processes (the frontend and the forked worker that embeds CPython), so that row compares the larger of the two with the reference's one process. The summed row adds each process's VmHWM, sampled every millisecond by \`bench -t\` (median of 3 runs): $tree_detail."
    while IFS= read -r line; do echo "- $line"; done < "$tmp/notes"
    echo
    echo "## Where the walkthrough's time goes"
    echo
    echo "\`bench/steps\` runs the whole walkthrough in one process (no worker, no frontend process): the lessons loaded, the interpreter started as the worker starts it, every step of every stage through the session, each stage left, every result encoded and rendered as \`--plain\` renders it (into memory). The indented phases are the host's per-step work, timed again apart with the same calls; \"other\" is the step total minus those and the cells. Medians of 7 runs; CPU-bound, so noisy on a shared machine."
    echo
    echo "| phase | ms | count |"
    echo "|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$tmp/phases.tsv"
    echo
    echo "The reference's own floor for comparison: \`embed_ref\` on an empty script takes $(get emptyref 4) ms (process start, Py_InitializeFromConfig, exit); the whole reference $(get "ref-$DEF" 4) ms."
    echo
    echo "## Raw medians"
    echo
    echo "| command | runs | fails | wall median ms | p25 | p75 | min | CPU median ms | RSS median KiB | RSS max KiB |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; print "" }' "$tmp/times.tsv"
    echo
    echo "Commands: plain-3.X = \`$MT --python 3.X --plain\`; ref-3.X = \`$B/bench/embed_ref-3.X bench/reference.py\`; list = \`$MT --list\`; pypass = \`$PY -I -c pass\`; stage1 = \`$MT --plain --stage 1\`; emptyref = \`embed_ref-$DEF\` on an empty script$([ $export_ok = 1 ] && echo "; export = \`$MT --export $EXPORT_DIR --force\`")$([ $old_list = 1 ] && echo "; listold = \`$BENCH_OLD --list\` (ministry-tutor $old_version)")."
    if [ -s bench/ANALYSIS.md ]; then
        echo
        cat bench/ANALYSIS.md
    fi
} > "$OUT"
say "wrote $OUT"
exit $failed
