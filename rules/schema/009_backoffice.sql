-- rules/schema/009_backoffice.sql — the back office's tables (issue 9; the store contract
-- shared by the input side, `hotline admin` and CSV import, and the output side, the month's
-- computation and the reports).  Times are REAL epoch seconds unless a column says DATE
-- ('YYYY-MM-DD', China Standard Time).  Every table has id, created and created_by.
CREATE TABLE IF NOT EXISTS shift_plan (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, date TEXT NOT NULL, shift TEXT NOT NULL,
  UNIQUE (agent, date));
CREATE TABLE IF NOT EXISTS leave (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, kind TEXT NOT NULL, from_date TEXT NOT NULL, to_date TEXT NOT NULL,
  days REAL, reason TEXT NOT NULL DEFAULT '', requested REAL,
  channel TEXT NOT NULL DEFAULT 'paper' CHECK (channel IN ('paper', 'phone', 'proxy')),
  extends_id INTEGER,
  state TEXT NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved', 'refused', 'cancelled')),
  approvals TEXT NOT NULL DEFAULT '[]', relative TEXT, babies INTEGER, months INTEGER);
CREATE TABLE IF NOT EXISTS attendance_corrections (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, date TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
  by TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS complaints (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, call_id TEXT NOT NULL DEFAULT '', time REAL, valid INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS praise (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, call_id TEXT NOT NULL DEFAULT '', time REAL,
  kind TEXT NOT NULL CHECK (kind IN ('phone', 'fax', 'letter', 'email', 'banner')),
  confirmed INTEGER NOT NULL DEFAULT 1, text TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS suggestions (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, time REAL, text TEXT NOT NULL DEFAULT '', adopted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS leader_scores (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, leader TEXT NOT NULL,
  policy REAL, conduct REAL, discipline REAL, summary REAL, study REAL, note TEXT NOT NULL DEFAULT '',
  UNIQUE (agent, month));
CREATE TABLE IF NOT EXISTS reviews (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  reviewer TEXT NOT NULL, agent TEXT NOT NULL, month TEXT NOT NULL, call_id TEXT NOT NULL,
  policy REAL, conduct REAL, note TEXT NOT NULL DEFAULT '',
  UNIQUE (reviewer, call_id));
CREATE TABLE IF NOT EXISTS transcripts (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  call_id TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('recogniser', 'reviewer')),
  text TEXT NOT NULL,
  UNIQUE (call_id, source));
CREATE TABLE IF NOT EXISTS call_notes (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  call_id TEXT NOT NULL, agent TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '',
  kb_lookups INTEGER NOT NULL DEFAULT 0,
  UNIQUE (call_id));
CREATE TABLE IF NOT EXISTS work_summaries (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, has_plan INTEGER NOT NULL DEFAULT 0, text TEXT NOT NULL DEFAULT '',
  UNIQUE (agent, month));
CREATE TABLE IF NOT EXISTS training_sessions (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  date TEXT NOT NULL, topic TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS training_attendance (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  session_id INTEGER NOT NULL, agent TEXT NOT NULL, present INTEGER NOT NULL DEFAULT 1,
  UNIQUE (session_id, agent));
CREATE TABLE IF NOT EXISTS test_marks (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, quarter TEXT NOT NULL, mark REAL NOT NULL,
  UNIQUE (agent, quarter));
CREATE TABLE IF NOT EXISTS half_year_reports (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, half TEXT NOT NULL, submitted REAL,
  UNIQUE (agent, half));
CREATE TABLE IF NOT EXISTS score_sheets (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, computed REAL NOT NULL, version TEXT NOT NULL,
  base REAL NOT NULL, bonus REAL NOT NULL, total REAL NOT NULL, rank INTEGER, sheet TEXT NOT NULL,
  UNIQUE (agent, month, version));
CREATE TABLE IF NOT EXISTS attendance_months (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, computed REAL NOT NULL, version TEXT NOT NULL,
  summary TEXT NOT NULL,
  UNIQUE (agent, month, version));
