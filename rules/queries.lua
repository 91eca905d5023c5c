-- rules/queries.lua — the reports and actions of this hotline's store that staff run with
-- `hotline ctl query NAME [ARG...]` (docs/admin-ctl.md); `hotline ctl query` lists them.
-- Each: sql (one statement; :name parameters are the args in order, :now is the engine's
-- time in epoch seconds), description (one line, shown in the list), args (names, with a
-- default where one may be left out), writes (true when it changes the store; a query that
-- does not say so may only read).  The engine checks every query against the database when
-- the policy is activated (start-up, reload, `hotline test-rules`) and refuses a broken one.
-- on (optional): the engine also runs the query itself at that moment, with :now —
-- "start" once at start-up, "recording_repaired" at start-up once for each recording the
-- last run left unfinished (a crash), with :path (relative to recordings/, as call:record
-- gave it) and :duration_ms of what the repaired file holds.
-- Times are shown in China Standard Time (UTC+8, no daylight saving), the centre's time.
return {
  messages = {
    description = "voice messages left by callers (key 2), newest last: STATE new|handled|all, the LAST N",
    args = { { name = "state", default = "all" }, { name = "last", default = 50 } },
    sql = [[
      SELECT id, caller, strftime('%Y-%m-%d %H:%M:%S', created, 'unixepoch', '+8 hours') AS created,
             round(duration_ms / 1000.0, 1) AS seconds, state, handled_by, path, call_id,
             duration_ms, created AS created_epoch, handled_at AS handled_at_epoch
        FROM (SELECT * FROM messages WHERE :state = 'all' OR state = :state
              ORDER BY id DESC LIMIT :last)
       ORDER BY id]],
  },
  -- issue 7: a message's row is 'recording' until it is kept (scripts/message.lua); the
  -- engine dying mid-message leaves it so.  At the next start, its repaired WAV finishes it
  -- with the length it really has; a row whose file needed no repair is finished anyway
  -- (a message the caller left is never dropped).
  message_recovered = {
    description = "run at start-up for each repaired recording: its message row becomes new with the file's length",
    on = "recording_repaired",
    args = { "path", "duration_ms" },
    writes = true,
    sql = [[
      UPDATE messages SET state = 'new', duration_ms = :duration_ms
       WHERE path = :path AND state = 'recording'
      RETURNING id, caller, path, duration_ms]],
  },
  messages_unfinished = {
    description = "run at start-up: message rows still recording when the engine stopped become new",
    on = "start",
    writes = true,
    sql = [[
      UPDATE messages SET state = 'new' WHERE state = 'recording'
      RETURNING id, caller, path, duration_ms]],
  },
  message_handled = {
    description = "marks voice message ID handled by NAME (default ctl); marking twice keeps the first",
    args = { "id", { name = "by", default = "ctl" } },
    writes = true,
    sql = [[
      UPDATE messages SET state = 'handled', handled_at = COALESCE(handled_at, :now),
             handled_by = COALESCE(handled_by, :by)
       WHERE id = :id
      RETURNING id, caller, state, handled_by,
                strftime('%Y-%m-%d %H:%M:%S', handled_at, 'unixepoch', '+8 hours') AS handled_at]],
  },
  -- issue 8: the ACD's events (engine tables agent_events, queue_events), as the back office
  -- reads them (issue 9: attendance, scoring, reports).  DAY is the centre's date, YYYY-MM-DD:
  -- its day runs from 00:00 to 24:00 China Standard Time.
  agent_day = {
    description = "an agent's state changes on a day (log-in, ready, not ready and why, talking ...), in order: AGENT DAY (YYYY-MM-DD)",
    args = { "agent", "day" },
    sql = [[
      SELECT strftime('%H:%M:%S', time, 'unixepoch', '+8 hours') AS at, state, prev, reason,
             queue, call_id, changed_by, node, time AS time_epoch
        FROM agent_events
       WHERE agent = :agent
         AND time >= CAST(strftime('%s', :day, '-8 hours') AS INTEGER)
         AND time < CAST(strftime('%s', :day, '+1 day', '-8 hours') AS INTEGER)
       ORDER BY time, id]],
  },
  queue_day = {
    description = "a queue's callers on a day, each as it left the queue: its wait and how (answered, abandoned, message, overflow ...): QUEUE DAY (YYYY-MM-DD)",
    args = { "queue", "day" },
    sql = [[
      SELECT strftime('%H:%M:%S', time, 'unixepoch', '+8 hours') AS at, call_id, caller,
             waited_ms, outcome, agent, event, node, time AS time_epoch
        FROM queue_events
       WHERE queue = :queue AND outcome <> ''
         AND time >= CAST(strftime('%s', :day, '-8 hours') AS INTEGER)
         AND time < CAST(strftime('%s', :day, '+1 day', '-8 hours') AS INTEGER)
       ORDER BY time, id]],
  },
  -- issue 9, 首问负责制 (rules/first_contact.lua): a case left open is due for follow-up;
  -- these are the ones past it, most overdue first.
  overdue = {
    description = "first-contact cases still open past their follow-up due time, most overdue first: [OWNER (all)]",
    args = { { name = "owner", default = "all" } },
    sql = [[
      SELECT id, owner, caller, strftime('%Y-%m-%d %H:%M', follow_up_due, 'unixepoch', '+8 hours') AS due,
             round((:now - follow_up_due) / 3600.0, 1) AS hours_over, calls, question, answer,
             last_call_id, follow_up_due AS due_epoch
        FROM cases
       WHERE state = 'open' AND follow_up_due IS NOT NULL AND follow_up_due < :now
         AND (:owner = 'all' OR owner = :owner)
       ORDER BY follow_up_due, id]],
  },
}
