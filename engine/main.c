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
#include "core/conffile.h"
#include "core/config.h"
#include "core/log.h"
#include "app/loop.h"
#include "app/last_good.h"
#include "app/service.h"
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
        "  --config FILE        read settings from FILE first (an installed engine's is\n"
        "                       /etc/hotline/hotline.conf): `name = value` lines, each name one\n"
        "                       of the options below that take a value, without the dashes;\n"
        "                       folders relative to FILE's folder; options given here win\n"
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

static const struct option run_opts[] = {
    { "sip", required_argument, 0, 's' },     { "rtp-ports", required_argument, 0, 'r' },
    { "data", required_argument, 0, 'd' },    { "scripts", required_argument, 0, 'S' },
    { "rules", required_argument, 0, 'R' },   { "prompts", required_argument, 0, 'p' },
    { "http", required_argument, 0, 'H' },    { "clock", required_argument, 0, 'c' },
    { "config", required_argument, 0, 'C' },
    { "verbose", no_argument, 0, 'v' },       { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 },
};

/* One setting of `hotline run`, from the command line (conf NULL: folders as given) or from
 * the config file conf (folders relative to its folder).  0, or -1 with the reason in err. */
static int run_setting(hl_config *cfg, int code, const char *arg, const char *conf,
                       char *err, int errlen)
{
    char *folder = code == 'd' ? cfg->data_dir : code == 'S' ? cfg->scripts_dir
                 : code == 'R' ? cfg->rules_dir : code == 'p' ? cfg->prompts_dir : NULL;
    bool ok = false;
    const char *want = "ADDR:PORT";
    switch (code) {
    case 's':
        ok = hl_config_parse_hostport(arg, cfg->sip_addr, sizeof cfg->sip_addr, &cfg->sip_port) == 0;
        break;
    case 'H':
        ok = hl_config_parse_hostport(arg, cfg->http_addr, sizeof cfg->http_addr, &cfg->http_port) == 0;
        break;
    case 'r':
        ok = sscanf(arg, "%d-%d", &cfg->rtp_port_lo, &cfg->rtp_port_hi) == 2 &&
             cfg->rtp_port_lo >= 1024 && cfg->rtp_port_hi <= 65535 &&
             cfg->rtp_port_hi - cfg->rtp_port_lo >= 4;
        want = "LO-HI within 1024-65535";
        break;
    case 'd': case 'S': case 'R': case 'p':
        ok = hl_conffile_path(conf ? conf : "", arg, folder, sizeof cfg->data_dir) == 0;
        want = "a folder name shorter than 512 bytes";
        break;
    case 'c':
        cfg->start_clock = hl_clock_parse_iso(arg);
        ok = cfg->start_clock >= 0;
        want = "an ISO 8601 time like 2026-07-01T17:59:00";
        break;
    default:
        snprintf(err, errlen, "not a setting");
        return -1;
    }
    if (ok)
        return 0;
    const struct option *o = run_opts;
    while (o->name && o->val != code)
        o++;
    snprintf(err, errlen, "%s wants %s, got '%s'", o->name ? o->name : "?", want, arg);
    return -1;
}

typedef struct conf_reading {
    hl_config  *cfg;
    const char *path;
} conf_reading;

/* A config file's `name = value`: name is a `hotline run` option taking a value. */
static int conf_setting(void *arg, const char *name, const char *value, char *err, int errlen)
{
    conf_reading *r = arg;
    for (const struct option *o = run_opts; o->name; o++)
        if (!strcmp(o->name, name) && o->has_arg == required_argument && o->val != 'C')
            return run_setting(r->cfg, o->val, value, r->path, err, errlen);
    snprintf(err, errlen, "unknown setting '%s' (the settings are `hotline run`'s options "
                          "that take a value, without the dashes: sip, rtp-ports, data, "
                          "scripts, rules, prompts, http)", name);
    return -1;
}

/* The --config FILE of argv, if any (read before the other options, which win over it). */
static const char *config_arg(int argc, char **argv)
{
    const char *conf = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            conf = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            conf = argv[i] + 9;
    }
    return conf;
}

static int read_config(hl_config *cfg, const char *conf, const char *who)
{
    char err[1600];
    conf_reading r = { cfg, conf };
    if (hl_conffile_read(conf, conf_setting, &r, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", who, err);
    return -1;
}

static int run_main(int argc, char **argv)
{
    hl_config cfg;
    hl_config_defaults(&cfg);
    const char *conf = config_arg(argc, argv);
    if (conf && read_config(&cfg, conf, "hotline run") != 0)
        return 2;
    int o;
    optind = 1;
    char why[1200];
    while ((o = getopt_long(argc, argv, "vh", run_opts, NULL)) != -1) {
        switch (o) {
        case 'C': break;    /* read above */
        case 'v': hl_log_set_level(HL_LOG_DEBUG); break;
        case 'h': usage_run(stdout); return 0;
        case '?': usage_run(stderr); return 2;
        default:
            if (run_setting(&cfg, o, optarg, NULL, why, sizeof why) != 0) {
                fprintf(stderr, "hotline run: --%s\n", why);
                return 2;
            }
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
    char status[640];
    snprintf(status, sizeof status, "listening on %s:%d, data %s", cfg.sip_addr, cfg.sip_port,
             cfg.data_dir);
    hl_service_ready(loop->uv, status);
    int rc = hl_loop_run(loop);
    free(loop);
    return rc;
}

/* `hotline ctl|test-rules|sim|config --config FILE ...`: the folders the engine runs with,
 * from its config file, as the command's own options (`want`: which of data, scripts, rules,
 * prompts it takes), put first so that the same options given on the command line win. */
static int with_config(int argc, char **argv, const char *const *want,
                       int (*command)(int argc, char **argv))
{
    int at = 1;
    while (at < argc && strcmp(argv[at], "--config") && strcmp(argv[at], "--"))
        at++;
    if (at + 1 >= argc || strcmp(argv[at], "--config"))
        return command(argc, argv);
    hl_config cfg;
    hl_config_defaults(&cfg);
    char who[64];
    snprintf(who, sizeof who, "hotline %s", argv[0]);
    if (read_config(&cfg, argv[at + 1], who) != 0)
        return 2;
    char **args = calloc((size_t)argc + 9, sizeof *args);
    if (!args)
        return 1;
    int n = 0;
    args[n++] = argv[0];
    for (const char *const *w = want; *w; w++) {
        args[n++] = (char *)*w;
        args[n++] = !strcmp(*w, "--data") ? cfg.data_dir : !strcmp(*w, "--scripts") ? cfg.scripts_dir
                  : !strcmp(*w, "--rules") ? cfg.rules_dir : cfg.prompts_dir;
    }
    for (int i = 1; i < argc; i++)
        if (i != at && i != at + 1)
            args[n++] = argv[i];
    int rc = command(n, args);
    free(args);
    return rc;
}

static const char *const ctl_folders[] = { "--data", NULL };
static const char *const policy_folders[] = { "--scripts", "--rules", "--prompts", NULL };
static const char *const rules_folder[] = { "--rules", NULL };

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
        return with_config(argc - 1, argv + 1, ctl_folders, hl_ctl_main);
    if (!strcmp(cmd, "sim"))
        return with_config(argc - 1, argv + 1, policy_folders, hl_sim_main);
    if (!strcmp(cmd, "test-rules"))
        return with_config(argc - 1, argv + 1, policy_folders, hl_test_rules_main);
    if (!strcmp(cmd, "config"))
        return with_config(argc - 1, argv + 1, rules_folder, hl_config_main);
    fprintf(stderr, "hotline: unknown command '%s'\n\n", cmd);
    usage_main(stderr);
    return 2;
}
