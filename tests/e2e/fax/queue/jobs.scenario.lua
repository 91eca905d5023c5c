-- jobs.scenario.lua (t21_fax_queue) — the fax queue in the simulator: the caller keys a fax
-- number and the call queues exactly one job (without running it); the job itself, run as
-- a job scenario, sends the document when the number answers and fails (to be retried)
-- when it is busy, does not answer, or T.30 fails.
-- Run: build/hotline sim --scripts tests/e2e/fax/queue --rules tests/e2e/fax/queue-rules tests/e2e/fax/queue/jobs.scenario.lua
return {
  {
    name = "the caller keys a fax number: one fax job queued, the call ends",
    keys = { "043188886666#" },
    expect = {
      route = "fax-queued",
      jobs = { { kind = "fax", args = { to = "043188886666", file = "doc-1.tif" }, max_attempts = 3 } },
      dialled = {},
    },
  },
  {
    name = "a caller who keys too few digits queues nothing",
    keys = { "12#" },
    expect = { route = "fax-bad-number", jobs = {} },
  },
  {
    name = "the job: the fax machine answers and takes every page",
    job = { kind = "fax", args = { to = "043188886666", file = "doc-1.tif" } },
    dial = { default = { answer_after = 1000 } },   -- (t21 rings for at most 3 s)
    expect = {
      job = "done",
      route = "fax-sent",
      vars = { fax_pages = 2 },
      cdr = { direction = "outbound", caller = "engine", called = "job_fax" },
    },
  },
  {
    name = "the job: busy, so the attempt fails with the reason (the engine retries it)",
    job = { kind = "fax", args = { to = "043188886666", file = "doc-1.tif" }, attempt = 2 },
    dial = { default = { fail = 486 } },
    expect = { job = "failed", job_error = "dial .*: 486", route = "fax-dial-486" },
  },
  {
    name = "the job: the fax machine answers but T.30 fails",
    job = { kind = "fax", args = { to = "043188886666", file = "doc-1.tif" } },
    dial = { default = { answer_after = 1000 } },
    fax = { status = 48 },
    expect = { job = "failed", job_error = "^fax: ", route = "fax-failed" },
  },
}
