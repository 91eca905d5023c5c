/* sip_map.c — string-keyed chained hash table (FNV-1a), grown at load factor 1.
 * Owns its entries (key copies); the values belong to the caller. */
#include "sip/sip_int.h"
#include <stdlib.h>
#include <string.h>

#define MAP_INITIAL_BUCKETS 64

static uint32_t map_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

void hl_map_init(hl_map *m)
{
    m->b = NULL;
    m->nb = 0;
    m->n = 0;
}

void hl_map_free(hl_map *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        hl_map_ent *e = m->b[i];
        while (e) {
            hl_map_ent *nx = e->next;
            free(e);
            e = nx;
        }
    }
    free(m->b);
    hl_map_init(m);
}

static int map_grow(hl_map *m)
{
    size_t nb = m->nb ? m->nb * 2 : MAP_INITIAL_BUCKETS;
    hl_map_ent **b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < m->nb; i++) {
        hl_map_ent *e = m->b[i];
        while (e) {
            hl_map_ent *nx = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = nx;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

static hl_map_ent **map_find(const hl_map *m, const char *key, uint32_t h)
{
    if (!m->nb)
        return NULL;
    hl_map_ent **pp = &m->b[h & (m->nb - 1)];
    while (*pp) {
        if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
            return pp;
        pp = &(*pp)->next;
    }
    return NULL;
}

int hl_map_put(hl_map *m, const char *key, void *val)
{
    uint32_t h = map_hash(key);
    hl_map_ent **pp = map_find(m, key, h);
    if (pp) {
        (*pp)->val = val;
        return 0;
    }
    if (m->n >= m->nb && map_grow(m) < 0)
        return -1;
    size_t kl = strlen(key);
    hl_map_ent *e = malloc(sizeof *e + kl + 1);
    if (!e)
        return -1;
    memcpy(e->key, key, kl + 1);
    e->hash = h;
    e->val = val;
    e->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = e;
    m->n++;
    return 0;
}

void *hl_map_get(const hl_map *m, const char *key)
{
    hl_map_ent **pp = map_find(m, key, map_hash(key));
    return pp ? (*pp)->val : NULL;
}

void *hl_map_del(hl_map *m, const char *key)
{
    hl_map_ent **pp = map_find(m, key, map_hash(key));
    if (!pp)
        return NULL;
    hl_map_ent *e = *pp;
    void *v = e->val;
    *pp = e->next;
    free(e);
    m->n--;
    return v;
}

void hl_map_each(const hl_map *m, void (*fn)(void *val, void *arg), void *arg)
{
    for (size_t i = 0; i < m->nb; i++)
        for (hl_map_ent *e = m->b[i]; e; e = e->next)
            fn(e->val, arg);
}
