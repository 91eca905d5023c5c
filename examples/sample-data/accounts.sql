-- examples/sample-data/accounts.sql — three sample callers for the account query (key 4)
-- of `make run` and the end-to-end tests; never part of a production database (the engine
-- and the policy's schema put no rows anywhere: load.sh here does, when asked).
-- Fictional people and numbers (the same as scripts/account.scenario.lua):
--   220102198503151237  PIN 123456   balance 12345.67, 96 months, last paid 2026-10-15
--   11010519491231002X  PIN 654321   balance 800.05, 15 months, last paid 2026-09
--   220203199001014562  PIN 111111   (the lock tests)
-- pin_hash was made by the engine's hl.pin_hash("ID:PIN") (rules/accounts.lua) with
-- rules/engine.lua's pin_hash_ops = 2, pin_hash_mem_kb = 19456.
INSERT OR REPLACE INTO demo_accounts (id_number, pin_hash, name, balance_fen, paid_months, last_paid) VALUES
  ('220102198503151237', '$argon2id$v=19$m=19456,t=2,p=1$20qCyIqAP3Usm/nGipfRBA$YbE5WyeguBLQmwmyc0ae76nhDw+wmetesVL2NcUJ9FM',
   '张三', 1234567, 96, '2026-10-15'),
  ('11010519491231002X', '$argon2id$v=19$m=19456,t=2,p=1$htUboDcSDq8yL5nMs5M1GQ$Z1icWoSoNK+lz1OKFnbdGVsyXHKD26UVnTgf28daR5c',
   '李四', 80005, 15, '2026-09'),
  ('220203199001014562', '$argon2id$v=19$m=19456,t=2,p=1$vS18Ujk69esn2NGrxrebgw$nFdzwFtBvg/WoFggMRm+RieLTsI8v5hHPrgdfZ4iw0M',
   '王五', 500000, 120, '2026-11-01');
