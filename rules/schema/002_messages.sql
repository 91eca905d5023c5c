-- rules/schema/002_messages.sql — voice messages left by callers (key 2, §10.10:
-- offered when no agent can take the call; scripts/message.lua writes them).  The
-- recording is under the data directory's recordings/ (path); state new → handled
-- (`hotline ctl query message_handled ID`, rules/queries.lua).  Times are epoch seconds.
-- IF NOT EXISTS: databases made before issue 6 got this table from the engine.
CREATE TABLE IF NOT EXISTS messages (
  id          INTEGER PRIMARY KEY,
  caller      TEXT NOT NULL DEFAULT '',
  called      TEXT NOT NULL DEFAULT '',
  created     REAL NOT NULL,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  path        TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'handled')),
  handled_at  REAL,
  handled_by  TEXT,
  call_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_state ON messages(state, created);
