/* main.c — the `hotline` command: run the engine, talk to it, simulate callers.
 *
 *   hotline run         the engine in the foreground
 *   hotline ctl         commands to a running engine over its Unix socket
 *   hotline sim         simulated callers against scripts and rules (no SIP, no audio)
 *   hotline test-rules  every scenario and table test under scripts/ and rules/, plus the static checks
 *   hotline config      the tunables of rules/engine.lua: values, defaults, ranges
 *   hotline version */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/log.h"
#include "app/loop.h"
#include "app/last_good.h"
#include "call/call.h"
#include "ctl/ctl.h"
#include "sim/sim.h"
#include "version.h"

static void usage_main(FILE *f)
{
    fprintf(f,
        "usage: hotline COMMAND [OPTIONS]\n"
        "\n"
        "A Lua-scriptable telephony engine for hotlines and call centres.\n"
        "\n"
        "commands:\n"
        "  run         run the engine in the foreground (SIP, RTP, scripts, store, control)\n"
        "  ctl         send a command to a running engine: status, calls, hangup, reload, cdr, ...\n"
        "  sim         run scenario files with a simulated caller on a fake clock\n"
        "  test-rules  run every scenario and *_test.lua under scripts/ and rules/ and the static checks\n"
        "  config      list the tunables of rules/engine.lua: value, default, range, reload\n"
        "  api         print the Lua API's primitives and options (docs/lua-api.md is checked against it)\n"
        "  version     print the engine version\n"
        "\n"
        "`hotline COMMAND --help` describes each command's options.\n");
}

static void usage_run(FILE *f)
{
    fprintf(f,
        "usage: hotline run [OPTIONS]\n"
        "\n"
        "Runs the engine in the foreground, logging to stderr. SIGTERM or SIGINT ends the calls\n"
        "in progress cleanly and exits 0; SIGHUP reloads scripts and rules.\n"
        "\n"
        "options:\n"
        "  --sip ADDR:PORT      SIP address for UDP and TCP (default 127.0.0.1:5060)\n"
        "  --rtp-ports LO-HI    RTP port range, even ports for RTP, where rules/engine.lua sets\n"
        "                       none (default 20000-30000)\n"
        "  --data DIR           data directory: SQLite store, recordings, ctl socket (default data)\n"
        "  --scripts DIR        call scripts (default scripts)\n"
        "  --rules DIR          rules, including engine.lua with timeouts and limits (default rules;\n"
        "                       `hotline config` lists them)\n"
        "  --prompts DIR        prompt WAVs made by `make prompts` (default build/prompts)\n"
        "  --http ADDR:PORT     serve GET /metrics (Prometheus) and GET /events (server-sent events) there\n"
        "  --clock TIME         start the engine's wall clock at TIME (ISO 8601, centre time\n"
        "                       +08:00 unless an offset is given), e.g. 2026-07-01T17:59:00;\n"
        "                       it then runs on. For tests and demonstrations of hours.\n"
        "  -v, --verbose        debug logging\n"
        "  -h, --help           this text\n");
}

static int run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "sip", required_argument, 0, 's' },     { "rtp-ports", required_argument, 0, 'r' },
        { "data", required_argument, 0, 'd' },    { "scripts", required_argument, 0, 'S' },
        { "rules", required_argument, 0, 'R' },   { "prompts", required_argument, 0, 'p' },
        { "http", required_argument, 0, 'H' },    { "clock", required_argument, 0, 'c' },
        { "verbose", no_argument, 0, 'v' },       { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    hl_config cfg;
    hl_config_defaults(&cfg);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            if (hl_config_parse_hostport(optarg, cfg.sip_addr, sizeof cfg.sip_addr, &cfg.sip_port)) {
                fprintf(stderr, "hotline run: --sip wants ADDR:PORT, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'r':
            if (sscanf(optarg, "%d-%d", &cfg.rtp_port_lo, &cfg.rtp_port_hi) != 2 ||
                cfg.rtp_port_lo < 1024 || cfg.rtp_port_hi > 65535 ||
                cfg.rtp_port_hi - cfg.rtp_port_lo < 4) {
                fprintf(stderr, "hotline run: --rtp-ports wants LO-HI within 1024-65535, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'd': snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", optarg); break;
        case 'S': snprintf(cfg.scripts_dir, sizeof cfg.scripts_dir, "%s", optarg); break;
        case 'R': snprintf(cfg.rules_dir, sizeof cfg.rules_dir, "%s", optarg); break;
        case 'p': snprintf(cfg.prompts_dir, sizeof cfg.prompts_dir, "%s", optarg); break;
        case 'H':
            if (hl_config_parse_hostport(optarg, cfg.http_addr, sizeof cfg.http_addr, &cfg.http_port)) {
                fprintf(stderr, "hotline run: --http wants ADDR:PORT, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'c':
            cfg.start_clock = hl_clock_parse_iso(optarg);
            if (cfg.start_clock < 0) {
                fprintf(stderr, "hotline run: --clock wants an ISO 8601 time like 2026-07-01T17:59:00, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'v': hl_log_set_level(HL_LOG_DEBUG); break;
        case 'h': usage_run(stdout); return 0;
        default: usage_run(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hotline run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char err[2048];
    hl_config defaults = cfg;
    if (hl_config_load_rules(&cfg, cfg.rules_dir, err, sizeof err) != 0) {
        /* issue 7: the engine starts on the last good policy, engine.lua included (the loop
         * says so loudly when the files do not pass) */
        char scripts[1200], rules[1200], version[128], why[2048];
        double saved;
        cfg = defaults;
        if (!hl_last_good_find(cfg.data_dir, scripts, rules, sizeof rules, version, sizeof version, &saved) ||
            hl_config_load_rules_as(&cfg, rules, cfg.rules_dir, why, sizeof why) != 0) {
            fprintf(stderr, "hotline run: %s\n", err);
            return 1;
        }
        hl_error("run", "%s; the settings are the last good policy's (%s)", err, version);
    }
    hl_loop *loop = calloc(1, sizeof *loop);
    if (!loop || hl_loop_init(loop, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "hotline run: %s\n", loop ? err : "out of memory");
        return 1;
    }
    int rc = hl_loop_run(loop);
    free(loop);
    return rc;
}

int main(int argc, char **argv)
{
    const char *lvl = getenv("HL_LOG_LEVEL");
    if (lvl && !strcmp(lvl, "debug"))
        hl_log_set_level(HL_LOG_DEBUG);
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("hotline %s\n", HL_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "api")) {
        if (argc > 2) {
            bool help = !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help");
            fprintf(help ? stdout : stderr,
                    "usage: hotline api\n\n"
                    "Prints every primitive of the Lua API, one line each (prim NAME waits|now\n"
                    "where=CONTEXTS ...), and its options (opt NAME OPTION TYPE default=...\n"
                    "range=...); docs/lua-api.md is checked against it (tests/check-api-docs.py).\n");
            return help ? 0 : 2;
        }
        hl_call_api_print(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return run_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "ctl"))
        return hl_ctl_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "sim"))
        return hl_sim_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "test-rules"))
        return hl_test_rules_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "config"))
        return hl_config_main(argc - 1, argv + 1);
    fprintf(stderr, "hotline: unknown command '%s'\n\n", cmd);
    usage_main(stderr);
    return 2;
}
