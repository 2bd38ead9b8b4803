/*
 * fuzz.h - shared bits of the libFuzzer targets in tests/fuzz/.
 * Each target defines LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize);
 * run.sh links them with libFuzzer, regress.sh with regress_main.c.
 */
#ifndef RG_FUZZ_H
#define RG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An oracle: a property the code under test promises. Breaking it is a
 * bug, reported like a sanitizer finding (abort, so libFuzzer keeps the
 * input). */
#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n",  \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* True when the fixed-size buffer holds a NUL (a terminated string). */
#define FUZZ_TERMINATED(arr) (memchr((arr), '\0', sizeof (arr)) != NULL)
#define FUZZ_TERMINATED_N(p, n) (memchr((p), '\0', (n)) != NULL)

#endif
