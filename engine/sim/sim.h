/* sim.h — the simulated caller: scripts and rules run without SIP or audio, on a fake
 * clock, against scenario files (*.scenario.lua under scripts/ and rules/) that say what
 * the caller does and what must happen.  The same call code (call.c) runs as in the
 * engine; only the env (sim.c) and the legs (simulated) differ.  Format: docs/lua-api.md. */
#ifndef HL_SIM_H
#define HL_SIM_H
#include <stdbool.h>
#include <stdio.h>
#include "lua/script.h"

/* `hotline sim [--rules DIR] [--scripts DIR] [--prompts DIR] SCENARIO...` */
int hl_sim_main(int argc, char **argv);
/* `hotline test-rules [--scripts DIR] [--rules DIR] [--prompts DIR]`: static checks and every
 * scenario; one line each, then "N passed, M failed"; exit 1 on any failure. */
int hl_test_rules_main(int argc, char **argv);

/* Runs every scenario file under src->scripts_dir and src->rules_dir against p, then every
 * table test there (NAME_test.lua, lua/rule_tests.c).  Appends one line per scenario or case
 * to report (and prints it to out when out is not NULL); returns the
 * number failed and sets *passed. */
int hl_sim_run_all(hl_policy *p, const hl_policy_src *src, char *report, int reportlen,
                   int *passed, FILE *out);
/* A reload's self-test: hl_sim_run_all within the snapshot's reload time limit
 * (reload_timeout_ms, counted from its build); running over it stops the scenarios still
 * running and counts as one more failure, reported first. */
int hl_sim_selftest(hl_policy *p, const hl_policy_src *src, char *report, int reportlen,
                    int *passed);
/* Runs the scenarios of one file; with transcript, every step of each call goes to out. */
int hl_sim_run_file(hl_policy *p, const hl_policy_src *src, const char *path, char *report,
                    int reportlen, int *passed, FILE *out, bool transcript);

#endif
