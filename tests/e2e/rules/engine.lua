-- tests/e2e/rules/engine.lua — the end-to-end tests' engine settings.
-- Only what differs from the engine's defaults (`hotline config --defaults` lists every
-- tunable); nothing differs for these tests, so the table is empty.
return {}
