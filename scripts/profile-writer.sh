#!/usr/bin/env bash
# Profiles the hub's store writer under tally-bench's payment load (scenario 7) with perf from Debian's
# linux-perf, and prints where the writer thread's time goes (docs/BENCHMARKS.md, "Where the writer's time
# goes"). Builds the hub with line tables so that inlined SQLite and hub functions have names.
# Usage: scripts/profile-writer.sh [OUT_DIR]   (about two minutes; not part of `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
command -v perf >/dev/null || { echo "perf is missing: apt-get install linux-perf" >&2; exit 1; }
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -p tally-hub -p tally-bench
target/release/tally-bench run --only 7 --out "$out/ledger.md" --root "$PWD" >"$out/bench.log" 2>&1 &
bench=$!
hub=""
for _ in $(seq 1 120); do
  hub=$(pgrep -n -x tally-hub -P "$bench" || true)
  [ -n "$hub" ] && break
  sleep 0.5
done
[ -n "$hub" ] || { echo "the bench started no hub" >&2; kill "$bench"; exit 1; }
# Stopped by SIGINT after 45 s, or on its own when the hub exits (a workload such as `-- sleep 45` would be
# signalled with the whole process group when the hub exits first).
timeout --signal=INT 45 perf record -F 499 --call-graph dwarf,8192 -p "$hub" -o "$out/perf.data" >/dev/null 2>&1 || true
wait "$bench" || true
grep "ledger target" "$out/bench.log" || true
perf report -i "$out/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -4
perf script -i "$out/perf.data" --comm tally-store-wri -F comm,tid,ip,sym 2>/dev/null >"$out/writer.txt"
python3 scripts/perf_shares.py "$out/writer.txt" \
  'ledger::transfers::create_transfer' 'sqlite3VdbeHalt' 'sqlite3WalDefaultHook' 'pagerWalFrames' \
  'pcache1TruncateUnsafe' 'tally_hub::log::append' 'LogRepo for D>::insert_event' 'LogRepo for D>::channel_head' \
  'Repo for D>::(insert_tx_line|insert_transfer|insert_notification)' 'LedgerRepo for D>::(set_line_balance_after|set_transfer_lines_status|close_transfer_lines)' \
  'LedgerRepo for D>::(sent_since|sent_on_day|add_sent)' 'NotifyRepo for D>::insert_notification'
echo "profile and bench output in $out"
