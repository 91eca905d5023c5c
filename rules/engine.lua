-- rules/engine.lua — the engine's tunables: timeouts, limits and budgets.
-- Read at start and at every reload; the engine refuses a reload whose values are
-- missing their type or out of range, and keeps the old ones.  Each value says where it
-- comes from: a rule-book section (§), or the reason we chose it.
return {
  -- A call whose RTP stops is dead: the caller's phone or network is gone.  20 s is long
  -- enough for a brief network stall, short enough not to hold an agent's line (§6 服务规范:
  -- an agent must not keep a silent line; "稍停挂断").
  rtp_timeout_ms      = 20000,
  -- On hold the far end may legitimately stop sending; the agent must check in every 30 s
  -- (§6 查询信息: 等待时间超过30秒...), so allow several check-in periods before hanging up.
  rtp_hold_timeout_ms = 300000,
  -- An outbound leg (another centre, a callback, a fax) that rings this long has failed.
  ring_timeout_ms     = 45000,
  -- Concurrent calls before new ones get 503: what one loop carries (see `make bench`).
  max_calls           = 2000,
  -- Lua instructions a call's script may run between two waits (pattern-matching steps
  -- count too).  The heaviest step of these scripts needs under 30000; an endless loop
  -- holds the loop until it hits this: 1e6 is about 15 ms of one core, so SIP is still
  -- answered within 50 ms while a script runs away (issue 7; 5e6 took 70-115 ms).
  script_instructions = 1000000,
  -- Memory one call's script may hold (KiB).
  script_memory_kb    = 4096,
  -- Longest string (bytes) string.find/match/gmatch/gsub may search.  The matcher charges
  -- its steps to the instruction budget; this cap keeps each step's strings small too.
  -- Caller input and back-end answers are far shorter
  -- (an ID number is 18 bytes, an account record < 1 KiB); keep it at least http_max_body
  -- so a script can still search any response body it is given.
  script_pattern_max  = 65536,
  -- Longest recording of any kind (ms); the message flow sets its own, lower limit.
  record_max_ms       = 600000,
  -- Mean absolute sample (of 32767) under which 20 ms of audio counts as silence.
  silence_level       = 300,
  -- Saves of script files closer together than this are coalesced into one reload.
  reload_debounce_ms  = 300,
  -- A reload (build every file, run main.lua, then every scenario) that takes longer than
  -- this is refused and the running version stays: the shipped policy needs 0.25 s, so a
  -- policy that needs 10 s is looping, not working (an endless loop in a rule or scenario).
  reload_timeout_ms   = 10000,
  -- SIP requests per second one source address may send before it gets 503 (like
  -- Kamailio's pike); a trunk or a Kamailio in front is one source, so keep it high.
  sip_rate_per_sec    = 2000,
  -- Largest SIP message accepted (bytes); bigger ones are refused with 400/513.
  sip_max_message     = 16384,
  -- Length of each DTMF tone we send (RFC 4733), ms.
  dtmf_duration_ms    = 100,
  -- Fax on demand (§10.11 索取传真): the folder of the TIFF documents callers can ask
  -- for (made by the build; an installed system points this at its own documents), and the
  -- longest a fax session may take: a few pages at 9600 bit/s with retrains fit in 5 min.
  fax_dir             = "build/fax",
  fax_max_ms          = 300000,
  -- The job queue (queued faxes: the caller keys a fax number and hangs up; the engine
  -- dials it later): how often the engine looks for due jobs (ms), how many run at once
  -- (each holds one outbound call and its RTP ports), and how long a failed fax (busy, no
  -- answer, T.30 error) waits before it is tried again.  5 min between tries, as fax
  -- servers do, gives a busy line time to clear; hl.jobs.enqueue's max_attempts bounds it.
  jobs_poll_ms        = 1000,
  jobs_max_running    = 4,
  fax_retry_delay_ms  = 300000,
  -- hl.http.request (data sources in rules/ that ask a back end, e.g. the account query's
  -- HTTP adapter in contrib/accounts-http/).  http_allow: the only hosts scripts may reach
  -- ("name", "address", optionally ":port"); anything else is refused, so a script or a
  -- rule cannot be turned against other machines (SSRF) or a PBX's web API (toll fraud).
  -- Empty here: this site's account data is the demo table.  Example:
  --   http_allow = { "127.0.0.1:8099", "backend.example" },
  http_allow          = {},
  -- The caller hears silence while a request runs: 5 s is already long on the phone, and a
  -- back end slower than that is better answered with "please call again".
  http_timeout_ms     = 5000,
  -- Largest response body kept (bytes): an account record is well under 1 KiB; the cap
  -- keeps a runaway back end from filling a call's script memory (script_memory_kb).
  http_max_body       = 65536,
}
