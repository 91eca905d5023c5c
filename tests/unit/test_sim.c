/* test_sim.c — runs `hotline test-rules` on the repository's scripts/ and rules/ (the demo
 * IVR and every rule scenario) through hl_test_rules_main, as `make lua-test` does with the
 * real binary; each scenario counts as one check.  Prompts: build/prompts when it exists
 * (made by `make prompts`, which `make unit-test` depends on). */
#include <stdio.h>
#include "sim/sim.h"
#include "unit.h"

TEST_IMPL(sim)
{
    char *argv[] = { "test-rules", "--scripts", "scripts", "--rules", "rules", NULL };
    return unit_run_counted(hl_test_rules_main, 5, argv);
}
