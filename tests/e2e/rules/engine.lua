-- tests/e2e/rules/engine.lua — the end-to-end tests' engine settings.
-- Only what differs from the engine's defaults (rules/engine.lua documents every key and
-- where its value comes from); nothing differs for these tests, so the table is empty.
return {}
