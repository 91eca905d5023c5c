#!/usr/bin/env bash
# t43_cdr_csv — CDRs as CSV (issue 10): `hotline ctl cdr --csv` has the header of
# docs/admin-ctl.md and one row per leg whose fields equal `ctl cdr --json`'s; --since and
# --until select by start; the rolling file (cdr_csv_dir) holds the same rows, written as
# the calls ended, in the day's file cdr-YYYY-MM-DD.csv.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/rules"
echo 'return { cdr_csv_dir = "cdr-csv" }  -- below the data directory' > "$WORK/rules/engine.lua"
start_engine --rules "$WORK/rules"

run_sipp info "$(scen uac_dtmf_info BYE_TIMEOUT=15000)" dtmf || say "SIPp dtmf: $(sipp_why info $?)"
(cd "$WORK" && timeout 60 sipp -sn uac -s wait 127.0.0.1:$SIP_PORT -i 127.0.0.1 -p "$SIPP_PORT" \
   -m 3 -r 10 -d 200 -nostdin -timeout 40s > "$WORK/uac.out" 2>&1) || fail "SIPp: $(sipp_why uac $?)"
cdr_check --where called=wait --count 3 --quiet route=waiting || fail "the calls' CDRs"

ctl cdr --csv > "$WORK/all.csv" || fail "ctl cdr --csv"
ctl --json cdr --last 100 > "$WORK/all.json" || fail "ctl cdr --json"
compare() {  # compare CSV: every row equals its CDR in all.json; prints the row count
  "$PY" - "$1" "$WORK/all.json" "$ROOT/docs/admin-ctl.md" <<'PYEOF'
import csv, json, re, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
cdrs = {c["leg_id"]: c for c in json.load(open(sys.argv[2]))["cdrs"]}
doc = open(sys.argv[3]).read()
m = re.search(r"<!-- csv-columns:begin -->(.*?)<!-- csv-columns:end -->", doc, re.S)
documented = re.findall(r"^\| `([a-z_]+)` \|", m.group(1), re.M) if m else []
header = next(csv.reader(open(sys.argv[1], newline="")))
assert header == documented, f"header {header} differs from docs/admin-ctl.md's {documented}"
def text(v):
    if v is None: return ""
    if isinstance(v, list): return " ".join(v)
    if isinstance(v, float): return f"{v:.2f}"
    return str(v)
for r in rows:
    c = cdrs.get(r["leg_id"])
    assert c, f"a CSV row without its CDR: {r['leg_id']}"
    for f in ("call_id", "leg_index", "direction", "caller", "called", "start", "answer", "end",
              "hangup_side", "hangup_cause", "dtmf", "route", "menus", "prompts", "script_version",
              "codec", "agent", "queue", "queue_outcome"):
        assert r[f] == text(c[f]), f"{f}: CSV {r[f]!r}, JSON {text(c[f])!r}"
    assert int(r["rtp_sent"]) == c["rtp"]["sent"], "rtp_sent"
    if c["end_epoch"] and c["start_epoch"]:
        assert abs(float(r["duration_s"]) - (c["end_epoch"] - c["start_epoch"])) < 0.002, "duration_s"
print(len(rows))
PYEOF
}
n=$(compare "$WORK/all.csv") || fail "ctl cdr --csv against --json: $n"
[ "$n" -eq 4 ] || fail "ctl cdr --csv: $n rows, expected 4 (one per call: no dialled legs)"
grep -q '^[^,]*,[^,]*,0,inbound,13800138000,dtmf,' "$WORK/all.csv" || fail "the dtmf call's row"

# --since / --until: by the legs' start
first=$("$PY" -c 'import json,sys; print(min(c["start_epoch"] for c in json.load(open(sys.argv[1]))["cdrs"]))' "$WORK/all.json")
[ "$(ctl cdr --csv --until "$first" | wc -l)" -eq 1 ] || fail "--until the first start: more than the header"
[ "$(ctl cdr --csv --since "$first" | wc -l)" -eq 5 ] || fail "--since the first start: not every row"
[ "$(ctl cdr --csv --since 2099-01-01 | wc -l)" -eq 1 ] || fail "--since a future day: rows"
ctl cdr --csv --since yesterday > /dev/null 2> "$WORK/bad.err" && fail "--since yesterday was taken"
grep -q 'ISO 8601' "$WORK/bad.err" || fail "a bad --since: $(cat "$WORK/bad.err")"

# the rolling file: the same rows, as the calls ended
files=("$DATA"/cdr-csv/cdr-*.csv)
[ -s "${files[0]}" ] || fail "no rolling CSV file in $DATA/cdr-csv"
n=$(compare "${files[-1]}") || fail "the rolling file against --json: $n"
day=$("$PY" -c 'import json,sys; print(max(c["end"] for c in json.load(open(sys.argv[1]))["cdrs"])[:10])' "$WORK/all.json")
[ "$(basename "${files[-1]}")" = "cdr-$day.csv" ] || fail "file $(basename "${files[-1]}"), expected cdr-$day.csv"
stop_engine
pass "ctl cdr --csv equals --json (4 legs), --since/--until select; $(basename "${files[-1]}") holds the same rows"
