-- rules/schema/008_cases.sql — first-contact cases (rule book chapter 9 首问负责制; issue 8
-- item 6, completed by the back-office issue): the agent who first takes a caller's question
-- owns it until it is closed.  A call that reaches an agent opens a case for that caller, or
-- continues the caller's open one (calls counts them); the ACD's owner-first strategy
-- (rules/queues.lua) sends the caller back to the owner.  question, answer and follow_up_due
-- are the agent's (the web console and `hotline admin`, later).
CREATE TABLE IF NOT EXISTS cases (
  id            INTEGER PRIMARY KEY,
  caller        TEXT NOT NULL,
  owner         TEXT NOT NULL,              -- the agent's number
  state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  opened        REAL NOT NULL,
  updated       REAL NOT NULL,
  calls         INTEGER NOT NULL DEFAULT 1,
  first_call_id TEXT NOT NULL DEFAULT '',
  last_call_id  TEXT NOT NULL DEFAULT '',
  question      TEXT NOT NULL DEFAULT '',
  answer        TEXT NOT NULL DEFAULT '',
  follow_up_due REAL
);
CREATE INDEX IF NOT EXISTS cases_caller ON cases(caller, state, updated);
CREATE INDEX IF NOT EXISTS cases_owner ON cases(owner, state);
