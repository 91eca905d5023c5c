-- rules/schema/004_message_recording.sql — a message's row is written when its recording
-- starts (state 'recording') and finished when it ends (state 'new'), so a message the
-- engine dies in the middle of (kill -9, power) is still listed: at start-up the engine
-- repairs its WAV and runs the queries of rules/queries.lua that say on = "recording_repaired"
-- and on = "start", which finish such rows (issue 7).  SQLite cannot change a CHECK in place:
-- the table is made again with 'recording' allowed, rows and ids kept.
CREATE TABLE messages_new (
  id          INTEGER PRIMARY KEY,
  caller      TEXT NOT NULL DEFAULT '',
  called      TEXT NOT NULL DEFAULT '',
  created     REAL NOT NULL,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  path        TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('recording', 'new', 'handled')),
  handled_at  REAL,
  handled_by  TEXT,
  call_id     TEXT NOT NULL DEFAULT ''
);
INSERT INTO messages_new (id, caller, called, created, duration_ms, path, state, handled_at,
                          handled_by, call_id)
  SELECT id, caller, called, created, duration_ms, path, state, handled_at, handled_by, call_id
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_state ON messages(state, created);
CREATE INDEX messages_path ON messages(path);
