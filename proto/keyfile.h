/*
 * keyfile.h - the text of the gateway's key files (receipt, data and
 * index key), which `refgatectl init` writes and the gateway and
 * `refgatectl audit verify` read: one line of unpadded base64url of 32
 * raw bytes (the Ed25519 seed for the receipt key), a newline after it.
 * The files themselves are mode 0600; reading and writing them is each
 * side's own I/O. Pure: no I/O, no globals, thread-safe.
 */
#ifndef RG_KEYFILE_H
#define RG_KEYFILE_H

#include "rg.h"

/* The longest key file accepted, in bytes. */
#define KEYFILE_MAX 128
/* The length of the line keyfile_format writes, newline included. */
#define KEYFILE_LINE_LEN 44

/* Decodes the first line (up to CR, LF or the end) of text[0..len) into
 * out: exactly 32 bytes in canonical unpadded base64url. RG_OK, or
 * RG_EINVAL with out zeroed. */
int keyfile_parse(const char *text, size_t len, uint8_t out[32]);

/* Writes the line for key (KEYFILE_LINE_LEN characters, the newline
 * included) and a NUL into out. The caller wipes out. */
void keyfile_format(const uint8_t key[32], char out[KEYFILE_LINE_LEN + 1]);

#endif
