/*
 * slots.h - what each principal holds of the gateway's shared capacity:
 * open connections and parked long polls, each under a per-principal cap,
 * so that one principal cannot take the slots every other one needs.
 * Counts live in this process (a connection belongs to one node). A
 * principal's entry is made at its first slot and kept (principals are
 * enrolled, so few). Thread-safe.
 */
#ifndef RG_SLOTS_H
#define RG_SLOTS_H

#include <stdbool.h>

enum slot_kind { SLOT_CONN, SLOT_POLL, SLOT_KINDS };

struct slots;

struct slots *slots_new(void);
/* slots_free(NULL) is a no-op. */
void slots_free(struct slots *s);

/* Takes one slot of `kind` for principal `name` unless it already holds
 * `cap` of them. True when taken (give it back with slots_give); false
 * when at the cap or out of memory. */
bool slots_take(struct slots *s, enum slot_kind kind, const char *name,
                int cap);

/* Gives back one slot that slots_take handed out. */
void slots_give(struct slots *s, enum slot_kind kind, const char *name);

/* How many slots of `kind` name holds now. */
int slots_held(struct slots *s, enum slot_kind kind, const char *name);

#endif
