/* config.h — the engine's settings: command-line options plus the tunables of
 * rules/engine.lua (timeouts, limits, budgets).
 *
 * Every tunable is declared once, in the table of config.c: its name, type, default, range,
 * unit, when a reload's new value applies, and one line saying what it does and why its
 * default is what it is.  The loader, `hotline config` and the admin guide's list (checked
 * by tests/unit/test_config.c) all read that table.  A policy snapshot holds one hl_config;
 * it is read-only after loading. */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HL_HTTP_ALLOW_MAX 32      /* hosts in http_allow: a site has a back end or two, not dozens */
#define HL_HTTP_ALLOW_LEN 264     /* one entry: a DNS name (at most 253) and ":port" */
#define HL_CONFIG_PATH_LEN 1024   /* a folder setting, after joining it to the rules folder */

typedef struct hl_config {
    /* command line */
    char sip_addr[64];      int sip_port;
    char data_dir[512], scripts_dir[512], rules_dir[512], prompts_dir[512];
    char http_addr[64];     int http_port;   /* http_port 0 = no HTTP */
    double start_clock;     /* wall time to start at, <0 = now */

    /* rules/engine.lua: what each one means, its default and range are in config.c's table */
    int  rtp_port_lo, rtp_port_hi;  /* also --rtp-ports, used where engine.lua is silent */
    int  rtp_timeout_ms;
    int  rtp_hold_timeout_ms;
    int  rtp_latch_symmetric;
    int  rtp_ssrc_switch_ms;
    int  ring_timeout_ms;
    int  dns_timeout_ms;        /* issue 7: a dialled URI's host name is found within this */
    int  max_calls;
    int  script_instructions;
    int  script_memory_kb;
    int  script_pattern_max;
    int  record_max_ms;
    int  record_min_free_mb;    /* issue 7: below this, recording is refused */
    int  live_call_stamp_ms;    /* issue 7: heartbeat of the store's live_calls rows */
    char node_name[64];         /* issue 8: the node column of stored ACD events ("" = host) */
    int  silence_level;
    int  reload_debounce_ms;
    int  reload_timeout_ms;
    int  sip_rate_per_sec;
    int  sip_max_message;
    int  sip_ban_factor;
    int  sip_ban_ms;
    int  sip_retry_after_s;
    int  sip_tcp_max_per_addr;
    int  sip_tcp_message_timeout_ms;
    int  overload_lag_ms;
    char sip_server_header[96];
    int  dtmf_duration_ms;
    char fax_dir[HL_CONFIG_PATH_LEN];   /* joined to the rules folder unless absolute */
    int  fax_max_ms;
    int  jobs_poll_ms;
    int  jobs_max_running;
    int  fax_retry_delay_ms;
    int  http_timeout_ms;
    int  http_max_body;
    char http_allow[HL_HTTP_ALLOW_MAX][HL_HTTP_ALLOW_LEN]; /* hosts scripts may reach ("h" or "h:port") */
    int  http_allow_n;
    int  pin_hash_ops;
    int  pin_hash_mem_kb;
    char sip_from_user[33];       /* HL_TUNE_TEXT fields hold max + 1 bytes */
    char fax_ident[21];
    /* issue 8: agents' REGISTER (app/registrar.c) */
    char agent_realm[65];
    int  agent_register_min_s, agent_register_max_s, agent_max_contacts;
    int  agent_auth_fail_limit, agent_auth_fail_window_s, agent_lockout_s;
    int  acd_reserve_ms, acd_ring_guard_ms, acd_log_size;
    char agent_digest_algorithms[16];   /* "SHA-256,MD5", "MD5,SHA-256", "MD5", "SHA-256" */
    char agent_entry[41];               /* the policy function agents' own calls run */
    int  agent_qualify_s, agent_qualify_fails;
    /* issue 10: metrics, the event stream, the rolling CSV of CDRs */
    char http_metrics_allow[256];       /* addresses / prefixes, space-separated */
    char http_token_file[256];          /* "" = no token */
    int  events_buffer_bytes;
    char cdr_csv_dir[256];              /* "" = no rolling CSV */
} hl_config;

typedef enum { HL_TUNE_INT, HL_TUNE_PATH, HL_TUNE_TEXT, HL_TUNE_HOSTS } hl_tunable_type;

/* When a reload's new value takes effect. */
typedef enum {
    HL_APPLY_NEXT_USE,   /* the next time the engine uses it, also in calls already up */
    HL_APPLY_NEXT_CALL,  /* calls up keep the value they started with; new calls take it */
    HL_APPLY_RESTART,    /* sized or bound at start: a reload reports the change, keeps the old */
} hl_tunable_apply;

typedef struct hl_tunable {
    const char      *name;        /* its key in rules/engine.lua */
    hl_tunable_type  type;
    size_t           offset;      /* where it lives in hl_config */
    long long        def;         /* HL_TUNE_INT default */
    const char      *def_text;    /* HL_TUNE_PATH / HL_TUNE_TEXT default ("" for none) */
    long long        min, max;    /* HL_TUNE_INT range; HL_TUNE_TEXT length */
    const char      *unit;
    hl_tunable_apply apply;
    const char      *what;        /* one line: what it does, and where its default comes from */
    const char      *chars;       /* HL_TUNE_TEXT: the characters allowed (NULL: any printable) */
} hl_tunable;

/* The table: every tunable, in the order the docs list them. */
const hl_tunable *hl_config_tunables(int *n);
const hl_tunable *hl_config_tunable(const char *name);
const char *hl_config_apply_name(hl_tunable_apply a);   /* "next use", "next call", "restart" */

void hl_config_defaults(hl_config *cfg);
/* Reads rules_dir/engine.lua (a sandboxed chunk returning a table) into cfg: a key it sets
 * takes its value, a key it leaves out goes back to the table's default, except restart-only
 * ones, which keep cfg's (the command line's, or the running engine's).  An unknown key or a
 * value of the wrong type or out of range is refused: -1 with "FILE:LINE: ..." in err, cfg
 * untouched.  Folders are joined to rules_dir unless absolute. */
int  hl_config_load_rules(hl_config *cfg, const char *rules_dir, char *err, int errlen);
/* The same with FROM_DIR/engine.lua read as if it were in rules_dir (its relative folders
 * are rules_dir's): a kept copy of the rules (issue 7: the last good policy) serves the
 * site's folders. */
int  hl_config_load_rules_as(hl_config *cfg, const char *from_dir, const char *rules_dir,
                             char *err, int errlen);
/* Names (comma-separated, into out) of the tunables whose apply is `apply` and whose value
 * differs between a and b; returns how many. */
int  hl_config_changed(const hl_config *a, const hl_config *b, hl_tunable_apply apply,
                       char *out, size_t outlen);
/* Copies from `from` into cfg every tunable whose apply is `apply`. */
void hl_config_copy(hl_config *cfg, const hl_config *from, hl_tunable_apply apply);
/* t's value in cfg as engine.lua would write it: 20000, "folder", { "host" }. */
void hl_config_format_value(const hl_config *cfg, const hl_tunable *t, char *out, size_t len);
/* The table as text: markdown (the admin guide's list) or one line per tunable with the
 * value cfg holds (cfg NULL: defaults only). */
void hl_config_print(FILE *f, const hl_config *cfg, bool markdown);
/* `hotline config [--rules DIR] [--markdown]`. */
int  hl_config_main(int argc, char **argv);
/* The line of path where `name = ` is written (outside a comment), for error messages of
 * the rules files read as data (engine.lua, trunks.lua); 0 when it cannot be found. */
int  hl_config_line_of(const char *path, const char *name);
/* "127.0.0.1:5060" -> addr, port.  Returns 0 or -1. */
int  hl_config_parse_hostport(const char *s, char *addr, int addrlen, int *port);

#endif
