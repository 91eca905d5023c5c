/* test_pwhash.c — the PIN hash's key (issue 7: a copy of the database gave every PIN): the
 * pepper file is made once, private, and kept; a keyed hash verifies only its secret and only
 * with that pepper; hashes made before (not keyed) still verify. */
#include "call/call_priv.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#define SECRET "220102198503151237:123456"
#define OTHER  "220102198503151237:123457"

TEST_IMPL(pwhash)
{
    CHECK(sodium_init() >= 0, "libsodium starts");
    hl_config cfg;
    hl_config_defaults(&cfg);
    unsigned long long ops = (unsigned long long)cfg.pin_hash_ops;
    size_t mem = (size_t)cfg.pin_hash_mem_kb * 1024;
    mode_t old_umask = umask(0);        /* the pepper is private whatever the umask */
    char dir[] = "/tmp/hl_test_pepper_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[300], err[300];
    snprintf(path, sizeof path, "%s/pin_pepper", dir);

    unsigned char k1[32], k2[32];
    CHECK(call_pin_pepper(dir, k1, err, sizeof err) == 0, "first use makes the pepper: %s", err);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 32 && (st.st_mode & 07777) == 0600,
          "pin_pepper is 32 bytes, mode 0600 (got %lld bytes, %04o)", (long long)st.st_size,
          (unsigned)(st.st_mode & 07777));
    CHECK(call_pin_pepper(dir, k2, err, sizeof err) == 0 && !memcmp(k1, k2, 32), "the pepper is kept: %s", err);

    char keyed[200], plain[200];
    CHECK(call_pin_hash_now(dir, SECRET, ops, mem, keyed, sizeof keyed), "a keyed hash is made");
    CHECK(!strncmp(keyed, "$argon2id$v=19$", 15) && strstr(keyed, ",keyid=pepper1$"),
          "a keyed hash says so in its parameters: %s", keyed);
    CHECK(call_pin_verify_now(dir, keyed, SECRET), "it verifies its secret");
    CHECK(!call_pin_verify_now(dir, keyed, OTHER), "and no other");
    CHECK(!call_pin_verify_now("", keyed, SECRET), "without the pepper it verifies nothing");
    /* what a stolen database gives: the Argon2id string without the key tells nothing */
    char stripped[200];
    const char *k = strstr(keyed, ",keyid=pepper1");
    snprintf(stripped, sizeof stripped, "%.*s%s", (int)(k - keyed), keyed, k + strlen(",keyid=pepper1"));
    CHECK(crypto_pwhash_str_verify(stripped, SECRET, strlen(SECRET)) != 0,
          "the hash is not Argon2id of the secret itself");

    /* a hash made before issue 7 (or by the argon2 tool): not keyed, still verifies */
    CHECK(call_pin_hash_now("", SECRET, ops, mem, plain, sizeof plain) && !strstr(plain, "keyid"),
          "an unkeyed hash (no data directory): %s", plain);
    CHECK(call_pin_verify_now(dir, plain, SECRET) && !call_pin_verify_now(dir, plain, OTHER),
          "an unkeyed hash verifies as before");

    /* another pepper (a database moved to another machine without its key): nothing verifies */
    unlink(path);
    CHECK(call_pin_pepper(dir, k2, err, sizeof err) == 0 && memcmp(k1, k2, 32), "a new pepper");
    CHECK(!call_pin_verify_now(dir, keyed, SECRET), "a keyed hash needs its own pepper");
    /* a pepper file that is not one (truncated) is refused, not used */
    FILE *f = fopen(path, "wb");
    fputs("short", f);
    fclose(f);
    CHECK(call_pin_pepper(dir, k2, err, sizeof err) == -1 && strstr(err, "not a pepper"), "short file: %s", err);
    /* a pepper made readable by others is tightened */
    unlink(path);
    CHECK(call_pin_pepper(dir, k2, err, sizeof err) == 0, "again: %s", err);
    chmod(path, 0644);
    CHECK(call_pin_pepper(dir, k1, err, sizeof err) == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
          "a 0644 pepper is made 0600 (%04o)", (unsigned)(st.st_mode & 07777));

    umask(old_umask);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
