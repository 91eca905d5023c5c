-- rules/trunks.lua — who may call in, and where the engine may call out (docs/security.md).
--
-- Read as data at start and at every reload, like engine.lua: a plain table, no code.  An
-- unknown field, a bad address or a bad pattern is refused with this file's name and line
-- (a reload then keeps the running policy).  Without this file the engine takes calls from
-- this machine only and dials only this machine.
--
-- trunks: where calls come from and go to.  An INVITE from a source no trunk lists gets
-- 403; one to a number its trunk does not deliver gets 404 (both logged, and counted in
-- `hotline ctl status` under "trunks").  Fields:
--   name         one word, shown in the log
--   sources      addresses or networks its requests come from ("10.1.2.3", "10.1.0.0/16",
--                "2001:db8::/32"); the first trunk listing a source is the one it belongs to
--   hosts        names the engine dials through it ("gw.example", "*.example" for any name
--                ending in .example); an address inside its sources counts too
--   deliver      number patterns of the called numbers (Request-URI) it brings in; none: it
--                brings no calls in (a gateway or a centre the engine only dials)
--   trust_pai    true: its P-Asserted-Identity is the caller's number (call.caller);
--                otherwise the header is ignored and call.caller is its From
--   rate_per_sec its own SIP request limit per source, instead of engine.lua's sip_rate_per_sec
--   digest       { user = "...", password = "...", realm = "..." }: its INVITEs must answer our
--                digest challenge (401) with these; realm defaults to its name.  Scripts cannot
--                require this file; keep it readable by the engine's user only when it holds one
--   login        { user = "...", password = "..." }: what the engine's INVITEs through it answer
--                when it challenges them (401/407, digest)
--   srv          true: its host names are looked up by SRV first (RFC 3263: _sip._udp.NAME,
--                or _sip._tcp for ;transport=tcp) when the URI names no port; without SRV
--                records, the name itself on port 5060.  Names are looked up off the loop
--                within engine.lua's dns_timeout_ms either way (docs/security.md)
--   reason       why it is here
--
-- dial: every call the engine places (a queued fax, a transfer, later an agent's callback)
-- names a purpose; the rule of that purpose lists the numbers it may reach, and caps the
-- calls placed on behalf of one caller in one day (the centre's date; each attempt of a
-- job counts; 0 = no cap).  A refusal is logged with the rule that refused it.  A dial that
-- names no purpose is "dial", which has no rule here: every script says what it dials for.
--
-- Number patterns match the whole number: digits and + * # stand for themselves, X is any
-- digit, Z 1-9, N 2-9, [1-4] or [135-9] one digit of the set, a final . one or more of
-- anything, a final ! zero or more.
return {
  trunks = {
    {
      name = "loopback",
      -- This machine: `make run`, `hotline run` from a checkout, the tests, and a SIP proxy
      -- (Kamailio) running beside the engine.  A site adds its carrier's SBC below, with
      -- its own addresses, and the numbers it delivers (e.g. deliver = { "12333" }).
      sources = { "127.0.0.0/8", "::1" },
      deliver = { "!" },
      trust_pai = false,  -- any local program could send one; mark the carrier's trunk instead
      reason = "development and tests on this machine",
    },
    {
      name = "centres",
      -- Key 9 connects a caller to another 12333 centre (rules/centres.lua).  These are the
      -- placeholder names of centres.lua; a site lists its Kamailio or trunk here as there.
      hosts = { "*.12333.jl.invalid", "*.12333.invalid" },
      reason = "the 12333 centres of rules/centres.lua",
    },
    {
      name = "pstn-gateway",
      -- The gateway agents' callbacks go out through (rules/agent_codes.lua callback_uri).
      hosts = { "pstn-gateway.12333.jl.invalid" },
      reason = "agents' callbacks to the telephone network",
    },
    {
      name = "fax-gateway",
      -- The gateway of rules/fax_gateway.lua that sends faxes to the telephone network.
      hosts = { "fax-gateway.12333.jl.invalid" },
      reason = "the fax gateway of rules/fax_gateway.lua",
    },
  },

  dial = {
    fax = {
      -- Jilin's fixed lines (area codes 0431-0439, then 7 or 8 digits) and mobiles
      -- (1[3-9] and 9 digits): no 00 (abroad), no 1xx service or premium numbers, nothing
      -- outside the province's fixed network.
      numbers = { "043[1-9]XXXXXXX", "043[1-9]XXXXXXXX", "1[3-9]XXXXXXXXX" },
      per_caller_day = 9,
      reason = "fax on demand (§10.11) sends to the caller's own fax in the province; "
            .. "9 a day is three documents with every retry (fax_gateway.max_attempts 3)",
    },
    transfer = {
      numbers = { "12333" },
      per_caller_day = 20,
      reason = "key 9 (§10.14) reaches another 12333 centre, whose number is 12333; "
            .. "20 a day is more than any caller needs and stops a loop of transfers",
    },
    callback = {
      numbers = { "043[1-9]XXXXXXX", "043[1-9]XXXXXXXX", "1[3-9]XXXXXXXXX" },
      per_caller_day = 60,
      reason = "an agent calls a caller back (rules/agent_codes.lua) in the province only; "
            .. "counted per agent: 60 a day is more than a shift of callbacks, fewer than a misuse",
    },
  },
}
