-- rules/schema/009_backoffice.sql — the back office's records (issue 9; the store contract
-- shared by the input side, `hotline ctl admin` with rules/backoffice.lua, and the
-- computation and reports): attendance (rule book chapter 2), scoring (chapter 6), phrase
-- checks (chapter 7), training (chapter 8) and the computed sheets.  Times are epoch seconds
-- (REAL) unless a column is a DATE 'YYYY-MM-DD' in China Standard Time; months 'YYYY-MM'.
-- Every row keeps when it was made (created) and by whom (created_by).  The UNIQUE keys are
-- what a CSV import checks duplicates against (docs/admin-guide.md "Back-office records").

-- 第二章: the shift each agent works on a date.
CREATE TABLE IF NOT EXISTS shift_plan (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, date TEXT NOT NULL, shift TEXT NOT NULL,
  UNIQUE (agent, date)
);

-- 第二章 一, 二: leave requests and their approval chain.  kind: rules/attendance.lua's
-- leave kinds (or errand); approvals: a JSON list of {by, role, time, ok}.
CREATE TABLE IF NOT EXISTS leave (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, kind TEXT NOT NULL, from_date TEXT NOT NULL, to_date TEXT NOT NULL,
  days REAL, reason TEXT DEFAULT '', requested REAL,
  channel TEXT NOT NULL DEFAULT 'paper' CHECK (channel IN ('paper', 'phone', 'proxy')),
  extends_id INTEGER NULL REFERENCES leave(id),
  state TEXT NOT NULL DEFAULT 'requested'
        CHECK (state IN ('requested', 'approved', 'refused', 'cancelled')),
  approvals TEXT NOT NULL DEFAULT '[]',
  relative TEXT NULL, babies INTEGER NULL, months INTEGER NULL
);
CREATE INDEX IF NOT EXISTS leave_agent ON leave(agent, from_date);

-- 第二章 一(八)2: a leader's correction of a day's row, with the reason kept.
CREATE TABLE IF NOT EXISTS attendance_corrections (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, date TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
  by TEXT NOT NULL, reason TEXT NOT NULL CHECK (reason <> '')
);
CREATE INDEX IF NOT EXISTS attendance_corrections_agent ON attendance_corrections(agent, date);

-- 细化表 六: complaints (valid once the recording confirmed them).
CREATE TABLE IF NOT EXISTS complaints (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, call_id TEXT DEFAULT '', time REAL,
  valid INTEGER NOT NULL DEFAULT 0 CHECK (valid IN (0, 1)), text TEXT DEFAULT ''
);
CREATE INDEX IF NOT EXISTS complaints_agent ON complaints(agent, time);

-- 细化表 附加得分: praise by phone, fax, letter, email or banner.
CREATE TABLE IF NOT EXISTS praise (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, call_id TEXT DEFAULT '', time REAL,
  kind TEXT NOT NULL CHECK (kind IN ('phone', 'fax', 'letter', 'email', 'banner')),
  confirmed INTEGER NOT NULL DEFAULT 1 CHECK (confirmed IN (0, 1)), text TEXT DEFAULT ''
);
CREATE INDEX IF NOT EXISTS praise_agent ON praise(agent, time);

-- 细化表 附加得分: suggestions, +1 when adopted.
CREATE TABLE IF NOT EXISTS suggestions (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, time REAL, text TEXT DEFAULT '',
  adopted INTEGER NOT NULL DEFAULT 0 CHECK (adopted IN (0, 1))
);
CREATE INDEX IF NOT EXISTS suggestions_agent ON suggestions(agent, time);

-- 班长综合评分: the duty leader's scores of an agent's month (40%).
CREATE TABLE IF NOT EXISTS leader_scores (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, leader TEXT NOT NULL,
  policy REAL, conduct REAL, discipline REAL, summary REAL, study REAL, note TEXT DEFAULT '',
  UNIQUE (agent, month)
);

-- 提取录音评分: a reviewer's scores of one drawn recording (60%, the mean of the draws).
CREATE TABLE IF NOT EXISTS reviews (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  reviewer TEXT NOT NULL, agent TEXT NOT NULL, month TEXT NOT NULL, call_id TEXT NOT NULL,
  policy REAL, conduct REAL, note TEXT DEFAULT '',
  UNIQUE (reviewer, call_id)
);
CREATE INDEX IF NOT EXISTS reviews_agent ON reviews(agent, month);

-- 第七章: a call's text, from a recogniser or typed by a reviewer.
CREATE TABLE IF NOT EXISTS transcripts (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  call_id TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('recogniser', 'reviewer')),
  text TEXT,
  UNIQUE (call_id, source)
);

-- 服务规范 来电摘要, 数据库点击: the agent's summary of a call and the knowledge-base lookups.
CREATE TABLE IF NOT EXISTS call_notes (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  call_id TEXT NOT NULL, agent TEXT NOT NULL, summary TEXT DEFAULT '',
  kb_lookups INTEGER DEFAULT 0,
  UNIQUE (call_id)
);

-- 评分表 四: the month's work summary and next month's plan.
CREATE TABLE IF NOT EXISTS work_summaries (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, has_plan INTEGER NOT NULL DEFAULT 0 CHECK (has_plan IN (0, 1)),
  text TEXT DEFAULT '',
  UNIQUE (agent, month)
);

-- 第八章: training sessions, who attended, quarterly test marks, half-year reports.
CREATE TABLE IF NOT EXISTS training_sessions (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  date TEXT NOT NULL, topic TEXT, kind TEXT
);
CREATE TABLE IF NOT EXISTS training_attendance (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  session_id INTEGER NOT NULL REFERENCES training_sessions(id), agent TEXT NOT NULL,
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1)),
  UNIQUE (session_id, agent)
);
CREATE TABLE IF NOT EXISTS test_marks (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, quarter TEXT NOT NULL, mark REAL,
  UNIQUE (agent, quarter)
);
CREATE TABLE IF NOT EXISTS half_year_reports (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, half TEXT NOT NULL, submitted REAL,
  UNIQUE (agent, half)
);

-- Computed (the monthly jobs): each agent's score sheet and attendance summary, per policy
-- version, so a recomputation after a rule change keeps the earlier one beside it.
CREATE TABLE IF NOT EXISTS score_sheets (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, computed REAL, version TEXT NOT NULL,
  base REAL, bonus REAL, total REAL, rank INTEGER, sheet TEXT,
  UNIQUE (agent, month, version)
);
CREATE TABLE IF NOT EXISTS attendance_months (
  id INTEGER PRIMARY KEY, created REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL, month TEXT NOT NULL, computed REAL, version TEXT NOT NULL,
  summary TEXT,
  UNIQUE (agent, month, version)
);
