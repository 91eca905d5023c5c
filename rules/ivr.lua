-- rules/ivr.lua — the settings of the 12333 IVR flow (scripts/main.lua and its sub-flows):
-- the province's name, how long the caller is given, how often they may fail, and the
-- limits of each sub-flow.  Every value says where it comes from: a section of the rule
-- book (§, chapter 10 unless noted), SPEC section 2, or why we chose it.
-- Change a value, save, and new calls follow it (docs/admin-guide.md).
return {
  -- §10.3 reads "xs省"; SPEC: the province is a setting.  `prompt` is the recording of the
  -- name, played between welcome_1 ("您好,欢迎拨打") and welcome_2 ("12333劳动保障...").
  province = { name = "吉林省", prompt = "province_name" },

  -- Menus: ms to wait for a key after the prompt ends.  SPEC 2.4 "no input: replay"; 5 s is
  -- the usual IVR pause (and the engine's default), long enough to find a key.
  menu_timeout_ms = 5000,
  -- SPEC 2.4: "after 3 failures (wrong keys or no input), an agent in hours, else goodbye".
  max_failures = 3,

  -- §10.7: out of hours the main menu offers keys 1-4 only; the static check
  -- (scripts/ivr/menu.lua's lint) refuses an out-of-hours main menu offering anything else.
  out_of_hours_main_keys = "1234",
  -- §10.5/§10.15: the key that reaches an agent; no menu may offer it out of hours
  -- (the agents are not there: §3 工作时间).
  agent_key = "0",

  -- Key 2, leave a message (SPEC 2.5).  60 s is enough for a name, a number and a
  -- question; staff call back (§10.10).  Silence ends it after 5 s (SPEC: "# or silence").
  message = {
    max_ms = 60000,
    silence_ms = 5000,
    min_ms = 1000,        -- shorter than this is a slip of the key: asked again
    max_takes = 3,        -- re-recordings offered before we keep the last one
  },

  -- Key 4, account query (SPEC 2.5).  An 18-character ID typed at a phone takes time: 10 s
  -- to the first key, 5 s between keys (the engine's 3 s default is short for 18 keys).
  account = {
    id_timeout_ms = 10000,
    id_interdigit_ms = 5000,
    pin_timeout_ms = 10000,
    pin_interdigit_ms = 5000,
    max_pin_failures = 3,         -- SPEC 2.5: 3 wrong PINs lock that ID ...
    lock_minutes = 30,            -- ... "for a while": half an hour (our choice)
    max_id_attempts = 3,          -- malformed IDs (bad check digit) before the failure path (SPEC 2.4)
    -- One call at a time works on one ID (issue 7: 30 calls at once guessed 65 PINs past
    -- the lock); another call for it hears account_busy.  A call's hold ends with the
    -- account flow or the call, and at the latest after claim_seconds (an engine that died
    -- mid-flow): longer than the longest flow — 3 PINs of up to 10 s + 6 x 5 s each with
    -- their prompts, and the read-back: about 3 minutes.
    claim_seconds = 300,
  },

  -- Key 9, another centre (§10.14): the area code ends with # or a pause of this long.
  -- max_attempts: unknown codes before the failure path, as a menu's max_failures (SPEC 2.4).
  area_code = { timeout_ms = 8000, interdigit_ms = 3000, max_attempts = 3 },

  -- Key 3, fax (SPEC 2.5): a document number ends with # or a pause; a fax number is
  -- 7 to 12 digits (a local number up to an area code plus 8 digits).  max_attempts:
  -- wrong document or fax numbers before the failure path, as max_failures (SPEC 2.4).
  fax = { timeout_ms = 8000, interdigit_ms = 3000, number_min = 7, number_max = 12,
          max_attempts = 3 },
}
