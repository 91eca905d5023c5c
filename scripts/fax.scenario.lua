-- scripts/fax.scenario.lua — key 3, fax on demand (rules/fax_documents.lua), up to the point
-- of sending (the engine's fax primitive is another issue: until call:fax_send /
-- call:fax_queue exist the caller hears fax_unavailable; the route is fax either way).
local OUT = "2026-01-14T21:00:00"

return {
  {
    name = "document 2 on this call: press start",
    time = OUT, keys = { "3", "2#", "1", { hangup = true } },
    expect = {
      prompts = { "main_menu_out", "fax_intro", "fax_catalogue", "fax/doc_1", "fax/doc_4",
                  "fax_mode", "fax_press_start" },
      menus = { "main", "fax_mode" }, route = "fax", vars = { fax_document = "2", fax_mode = "here" },
    },
  },
  {
    name = "document 4 to a fax number (queued outbound call)",
    time = OUT, keys = { "3", "4", "2", "043188886666#", { hangup = true } },
    expect = {
      prompts = { "fax_mode", "fax_enter_number", "fax_queued", "other_service", "main_menu_out" },
      not_prompts = { "fax_unavailable" },
      route = "fax", vars = { fax_document = "4", fax_mode = "number" },
      jobs = { { kind = "fax", args = { to = "043188886666", file = "doc-4.tif" }, max_attempts = 3 } },
    },
  },
  {
    name = "the queued fax job: the fax machine answers and takes every page",
    job = { kind = "fax", args = { to = "043188886666", file = "doc-1.tif" } },
    dial = { default = { answer_after = 3000 } },
    expect = { job = "done", route = "fax-sent", vars = { fax_pages = 2 },
               dialled = { "sip:043188886666@fax-gateway.12333.jl.invalid" } },
  },
  {
    name = "the queued fax job: busy, so the attempt fails and the engine retries it",
    job = { kind = "fax", args = { to = "043188886666", file = "doc-1.tif" }, attempt = 1 },
    dial = { default = { fail = 486 } },
    expect = { job = "failed", job_error = "dial 486", route = "fax-dial-486" },
  },
  {
    name = "an unknown document number: error and retry",
    time = OUT, keys = { "3", "9#", "1#", "1", { hangup = true } },
    expect = { prompts = { "fax_intro", "fax_bad_number", "fax_intro", "fax_mode", "fax_press_start" },
               route = "fax", vars = { fax_document = "1" } },
  },
  {
    name = "a fax number too short: error and retry",
    time = OUT, keys = { "3", "3#", "2", "123#", "04318888666#", { hangup = true } },
    expect = { prompts = { "fax_enter_number", "fax_number_invalid", "fax_enter_number" },
               route = "fax", vars = { fax_document = "3" } },
  },
  {
    name = "* at the document number: back to the main menu",
    time = OUT, keys = { "3", "*", { hangup = true } },
    expect = { prompts = { "fax_intro", "main_menu_out" }, not_prompts = { "fax_mode", "other_service" },
               route = "hangup" },
  },
  {
    name = "* at the way of sending: back to the main menu",
    time = OUT, keys = { "3", "1#", "*", { hangup = true } },
    expect = { prompts = { "fax_mode", "other_service", "main_menu_out" }, route = "hangup" },
  },
  {
    name = "3 unknown documents out of hours: goodbye",
    time = OUT, keys = { "3", "7#", "8#", "9#" },
    expect = { prompts = { "fax_bad_number", "fax_bad_number", "fax_bad_number", "failure_goodbye" },
               route = "hangup", hangup_cause = "goodbye" },
  },
}
