#!/usr/bin/env bash
# Supply-chain checks (`make test-supply-chain`):
#  1. cargo deny: licences, banned/duplicate crates and sources of the whole workspace (every member, every
#     target, all features, dev-dependencies included), per deny.toml. Offline (--frozen): it reads
#     Cargo.lock and the crates already in ~/.cargo (`scripts/deps.sh test` installs cargo-deny and fetches
#     every target's crates). Advisories too, against the RustSec snapshot in ../shared/advisory-db.bundle
#     (ADVISORY_DB_BUNDLE), cloned into target/advisory-dbs/: vulnerabilities fail the run, ignored
#     advisories (deny.toml, each with its reason) are listed once. docs/SECURITY.md: checking against
#     today's database.
#  2. npm audit of the UI's production dependencies, failing on high or critical vulnerabilities; skipped
#     with a note when the registry does not answer the audit endpoint (mirrors and offline machines).
# Usage: scripts/supply-chain.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
NPM_AUDIT_TIMEOUT="${NPM_AUDIT_TIMEOUT:-60}"   # seconds, for the whole npm audit
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0

# --- cargo deny ------------------------------------------------------------------------------------------
if ! cargo deny --version >/dev/null 2>&1; then
  echo "supply-chain: cargo-deny is not installed: run 'make deps-test' (scripts/deps.sh test)" >&2
  exit 1
fi
# The advisory database: the snapshot bundle, cloned where deny.toml's db-path and db-urls put it (cargo-deny
# names the directory after a hash of the URL), refreshed when the bundle holds another commit.
bundle="${ADVISORY_DB_BUNDLE:-}"
for b in ../shared/advisory-db.bundle /work/shared/advisory-db.bundle; do
  [ -n "$bundle" ] || { [ -f "$b" ] && bundle="$b"; }
done
bundle="${bundle:-../shared/advisory-db.bundle}"
dbdir=target/advisory-dbs/advisory-db-3157b0e258782691
if [ ! -f "$bundle" ]; then
  echo "supply-chain: no RustSec advisory snapshot at $bundle: set ADVISORY_DB_BUNDLE to a git bundle of" \
       "https://github.com/rustsec/advisory-db (git bundle create db.bundle --all in a clone)" >&2
  exit 1
fi
want="$(git bundle list-heads "$bundle" | awk 'NR==1{print $1}')"
if [ "$(git -C "$dbdir" rev-parse HEAD 2>/dev/null || true)" != "$want" ]; then
  rm -rf "$dbdir"
  mkdir -p "$(dirname "$dbdir")"
  git clone -q "$bundle" "$dbdir" 2>/dev/null
fi
snapshot="$(git -C "$dbdir" log -1 --format=%cs)"
say "cargo deny check licenses bans sources advisories ($(cargo deny --version); RustSec snapshot of $snapshot)"
deny=(cargo deny --frozen --workspace --color never)
checks=(check licenses bans sources advisories)
# One JSON run for the verdict and a short summary: the duplicate-version warnings as one list instead of
# cargo-deny's page per crate (its full report, with inclusion graphs, follows only for failures).
deny_rc=0
"${deny[@]}" -L info -f json "${checks[@]}" >"$tmp/deny.json" 2>&1 || deny_rc=$?
python3 - "$tmp/deny.json" <<'EOF' || true
import json, sys, tomllib
reasons = {i["id"]: i.get("reason", "") for i in tomllib.load(open("deny.toml", "rb")).get("advisories", {}).get("ignore", [])
           if isinstance(i, dict)}
dupes, other, logs, summary, ignored = [], [], [], None, {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        d = json.loads(line)
    except ValueError:
        if line.strip():
            logs.append(line.rstrip())
        continue
    f = d.get("fields", {})
    if d.get("type") == "summary":
        summary = f
    elif d.get("type") == "log" and f.get("level") in ("WARN", "ERROR"):
        logs.append(f"{f['level'].lower()}: {f.get('message', '').strip()}")
    elif d.get("type") == "diagnostic":
        adv = f.get("advisory") or {}
        if f.get("code") == "advisory-ignored":
            continue
        if adv.get("id") in reasons and f.get("severity") == "note":
            krates = [g["Krate"] for g in f.get("graphs", []) if "Krate" in g]
            who = f"{krates[0]['name']}@{krates[0]['version']}" if krates else "?"
            ignored[adv["id"]] = f"{adv['id']} {who} ({f.get('code')}): {reasons[adv['id']]}"
            continue
        if f.get("code") == "duplicate" and f.get("severity") == "warning":
            spans = [l.get("span", "") for l in f.get("labels", [])]
            vers = [e.split()[1] for s in spans for e in s.splitlines() if len(e.split()) > 1]
            name = f.get("message", "").rsplit("'", 2)[-2] if "'" in f.get("message", "") else "?"
            dupes.append(f"{name}@{'/'.join(vers)}")
        elif f.get("severity") in ("error", "warning", "note"):
            extra = "; ".join(l["span"] if l.get("message") == "reason" else f"{l['span']}: {l['message']}"
                              for l in f.get("labels", []) if l.get("message") and l.get("span")
                              and l.get("message") not in ("skipped here", "lock entries"))
            krates = [g["Krate"] for g in f.get("graphs", []) if "Krate" in g]
            who = f" {krates[0]['name']}@{krates[0]['version']}" if krates else ""
            other.append(f"{f['severity']}[{f.get('code')}]{who}: {f.get('message')}" + (f" ({extra})" if extra else ""))
for l in logs:
    print(l)
if ignored:
    print(f"advisories ignored in deny.toml ({len(ignored)}):")
    for i in sorted(ignored.values()):
        print("  " + i)
for o in other:
    print(o)
if dupes:
    import textwrap
    print(textwrap.fill(", ".join(dupes), width=110, initial_indent="  ", subsequent_indent="  ",
                        break_on_hyphens=False,
                        break_long_words=False).replace("  ", f"duplicate versions (warnings): {len(dupes)} crates\n  ", 1))
if summary:
    print("summary: " + ", ".join(
        f"{k}: {v.get('errors', 0)} errors, {v.get('warnings', 0)} warnings" for k, v in summary.items()))
EOF
if [ "$deny_rc" -ne 0 ]; then
  if grep -q 'failed to download\|--frozen was specified\|lock file .* needs to be updated' "$tmp/deny.json"; then
    echo "supply-chain: cargo deny could not resolve the crate graph offline. Run 'make deps-test'" \
         "(it fetches every target's crates), and make sure Cargo.lock is up to date (any cargo build)." >&2
  else
    # The failures again, in cargo-deny's own words with the inclusion graphs (errors only).
    "${deny[@]}" -L error "${checks[@]}" >&2 || true
  fi
  echo "supply-chain: cargo deny FAILED" >&2
  status=1
else
  echo "cargo deny: licenses ok, bans ok, sources ok, advisories ok (RustSec snapshot of $snapshot)"
fi

# --- npm audit (production dependencies of ui/) -------------------------------------------------------------
say "npm audit --omit=dev (ui/)"
audit_rc=0
(cd ui && timeout "$NPM_AUDIT_TIMEOUT" npm audit --omit=dev --json --fetch-retries=0 --fetch-timeout=20000 \
   --no-fund --no-update-notifier) >"$tmp/audit.json" 2>"$tmp/audit.err" || audit_rc=$?
if [ "$audit_rc" -eq 124 ]; then
  echo "npm audit skipped: the registry did not answer the audit endpoint (no answer within ${NPM_AUDIT_TIMEOUT} s)"
else
  node - "$tmp/audit.json" "$tmp/audit.err" "$(cd ui && npm config get registry)" <<'EOF' || status=1
const fs = require("fs");
const [out, errFile, registry] = process.argv.slice(2);
const stderr = fs.readFileSync(errFile, "utf8");
let report;
try { report = JSON.parse(fs.readFileSync(out, "utf8")); } catch { report = null; }
const counts = report && report.metadata && report.metadata.vulnerabilities;
if (counts) {
  const levels = ["critical", "high", "moderate", "low", "info"];
  console.log(`npm audit (${registry}): ` + levels.map((l) => `${counts[l] || 0} ${l}`).join(", ") +
              ` in ${(report.metadata.dependencies && report.metadata.dependencies.prod) ?? "?"} production packages`);
  const bad = Object.values(report.vulnerabilities || {}).filter((v) => v.severity === "high" || v.severity === "critical");
  for (const v of bad) {
    const via = (v.via || []).map((x) => (typeof x === "string" ? x : `${x.title} ${x.url || ""}`.trim())).join("; ");
    console.error(`  ${v.severity}: ${v.name} ${v.range || ""} - ${via}`);
  }
  if (bad.length) { console.error("supply-chain: npm audit FAILED (high or critical vulnerabilities)"); process.exit(1); }
} else if (/audit endpoint returned an error/.test(stderr)) {
  // The registry (or the network) did not answer the bulk advisory endpoint: not a verdict on the packages.
  const why = (report && report.message) || stderr.split("\n").find((l) => /npm warn audit/.test(l)) || "no answer";
  console.log(`npm audit skipped: the registry did not answer the audit endpoint (${String(why).replace(/^npm warn audit /, "").trim()})`);
} else {
  console.error("supply-chain: npm audit failed:\n" + (report && report.error ? JSON.stringify(report.error, null, 2) : "") + stderr);
  process.exit(1);
}
EOF
fi

if [ "$status" -ne 0 ]; then exit "$status"; fi
echo "supply-chain: all checks passed"
