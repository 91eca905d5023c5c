/* test_sim.c — runs `hotline test-rules` on the repository's scripts/ and rules/ (the demo
 * IVR and every rule scenario) through hl_test_rules_main, as `make lua-test` does with the
 * real binary.  Prompts: build/prompts when it exists (made by `make prompts`). */
#include <stdio.h>
#include "sim/sim.h"

int main(void)
{
    char *argv[] = { "test-rules", "--scripts", "scripts", "--rules", "rules", NULL };
    return hl_test_rules_main(5, argv);
}
