-- rules/schema/003_retire_sha256_pins.sql — databases made before issue 6 hold the three
-- sample accounts the engine used to put into every database, with unsalted SHA-256 PIN
-- hashes of known PINs.  PINs are now checked with hl.pin_verify (Argon2id), which no such
-- hash passes: the rows are dead weight and a needless copy of callers' data.  Remove them.
DELETE FROM demo_accounts WHERE pin_hash NOT LIKE '$argon2%';
