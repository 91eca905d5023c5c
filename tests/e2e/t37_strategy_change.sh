#!/usr/bin/env bash
# t37_strategy_change — the admin guide's worked example (docs/admin-guide.md, "Change a
# queue's strategy"): on a copy of scripts/ and rules/, a scenario that wants
# province.general to ring every ready agent fails with the shipped strategy and passes once
# rules/queues.lua says ring_all for that queue — tested with `hotline sim`, no engine.
. "$(dirname "$0")/lib.sh"
cp -r "$ROOT/scripts" "$ROOT/rules" "$WORK/"
cat > "$WORK/scripts/strategy.scenario.lua" <<'LUA'
return {
  { name = "province.general rings every ready agent",
    time = "2026-01-14T10:00:00", caller = "01088881234", keys = { "0" },
    agents = { { number = "9001", centre = "province", answer_after = 3000, hangup_after = 3000 },
               { number = "9002", centre = "province", answer_after = 1000, hangup_after = 3000 } },
    expect = { dialled = { "agent:9001", "agent:9002" }, cdr = { agent = "9002" } } },
}
LUA
sim() { "$HOTLINE" sim --scripts "$WORK/scripts" --rules "$WORK/rules" --prompts "$PROMPTS_SRC" \
          "$WORK/scripts/strategy.scenario.lua" > "$WORK/sim.$1" 2>&1; }
sim before && fail "the shipped strategy already rings every agent: $(tail -3 "$WORK/sim.before")"
grep -q "dialled: expected 'agent:9002'" "$WORK/sim.before" ||
  fail "the failure does not say which agent was not rung: $(grep -m1 FAIL "$WORK/sim.before")"
sed -i 's|^M.overrides = {$|M.overrides = {\n  ["province.general"] = { strategy = "ring_all" },|' "$WORK/rules/queues.lua"
grep -q '"province.general"\] = { strategy = "ring_all" }' "$WORK/rules/queues.lua" || fail "the edit did not apply"
sim after || fail "with ring_all: $(grep -m1 FAIL "$WORK/sim.after")"
grep -q "dial agent:9001" "$WORK/sim.after" && grep -q "dial agent:9002" "$WORK/sim.after" ||
  fail "the transcript does not show both agents rung"
pass "province.general: longest idle rang one agent (scenario failed); ring_all rang both (scenario passed)"
