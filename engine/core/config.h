/* config.h — the engine's settings: command-line options plus the tunables of
 * rules/engine.lua (timeouts, limits, budgets), each there with the rule-book section or
 * the reason it comes from.  Loaded once per policy snapshot; read-only after. */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H
#include <stdbool.h>

#define HL_HTTP_ALLOW_MAX 32      /* hosts in http_allow: a site has a back end or two, not dozens */
#define HL_HTTP_ALLOW_LEN 264     /* one entry: a DNS name (at most 253) and ":port" */

typedef struct hl_config {
    /* command line */
    char sip_addr[64];      int sip_port;
    int  rtp_port_lo, rtp_port_hi;
    char data_dir[512], scripts_dir[512], rules_dir[512], prompts_dir[512];
    char http_addr[64];     int http_port;   /* http_port 0 = no HTTP */
    double start_clock;     /* wall time to start at, <0 = now */

    /* rules/engine.lua (defaults in config.c, same values as the shipped file) */
    int  rtp_timeout_ms;          /* no RTP for this long ends an active call */
    int  rtp_hold_timeout_ms;     /* ... and this long while on hold */
    int  ring_timeout_ms;         /* an outbound leg unanswered for this long fails (408) */
    int  max_calls;               /* more concurrent calls get 503 */
    int  script_instructions;     /* Lua instruction budget per resume of a call's script */
    int  script_memory_kb;        /* Lua memory a call may hold */
    int  script_pattern_max;      /* bytes: longest subject of string.find/match/gmatch/gsub */
    int  record_max_ms;           /* upper bound on any recording */
    int  silence_level;           /* mean |sample| under which a 20 ms frame is silence */
    int  reload_debounce_ms;      /* file saves closer than this are one reload */
    int  reload_timeout_ms;       /* a policy's build + self-test longer than this is refused */
    int  sip_rate_per_sec;        /* requests per source per second before it is refused */
    int  sip_max_message;         /* bytes; larger SIP messages are refused */
    int  dtmf_duration_ms;        /* DTMF we send */
    /* fax on demand (engine/fax/; added by the fax engineer) */
    char fax_dir[512];            /* documents call:fax_send may send (default build/fax) */
    int  fax_max_ms;              /* one T.30 session ends after this long */
    /* the job queue (engine/app/jobs.c: queued faxes and other engine-originated calls) */
    int  jobs_poll_ms;            /* how often the loop looks for due jobs */
    int  jobs_max_running;        /* jobs running at once (each is a call with a dialled leg) */
    int  fax_retry_delay_ms;      /* a failed job attempt (a fax not through) is retried after this */
    /* hl.http.request (engine/http/; added by the HTTP engineer) */
    int  http_timeout_ms;         /* a request's default time limit (the caller waits meanwhile) */
    int  http_max_body;           /* bytes: a longer response body fails the request */
    char http_allow[HL_HTTP_ALLOW_MAX][HL_HTTP_ALLOW_LEN]; /* hosts scripts may reach ("h" or "h:port") */
    int  http_allow_n;
} hl_config;

void hl_config_defaults(hl_config *cfg);
/* Reads rules/engine.lua (a sandboxed chunk returning a table) over the defaults.
 * Returns 0, or -1 with a message naming the file, line and key in err. */
int  hl_config_load_rules(hl_config *cfg, const char *rules_dir, char *err, int errlen);
/* "127.0.0.1:5060" -> addr, port.  Returns 0 or -1. */
int  hl_config_parse_hostport(const char *s, char *addr, int addrlen, int *port);

#endif
