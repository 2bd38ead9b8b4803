/*
 * regress_main.c - runs a fuzz target without libFuzzer: every file named
 * on the command line is fed to LLVMFuzzerTestOneInput in a child process
 * of its own (so one crash, sanitizer report or leak fails that file
 * only). Prints "FAIL <file>" for each failure and, last, one line
 * "<target>: N passed, N failed"; exits 1 when any failed.
 */
#include "fuzz.h"

#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		return 1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return 1;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	fclose(f);
	/* an exact-size copy, as libFuzzer passes it, so an overread of
	 * the input is caught */
	uint8_t *data = malloc(n ? n : 1);
	if (!data)
		return 1;
	memcpy(data, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	const char *name = argc > 1 ? argv[1] : "fuzz";
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 2; i < argc; i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			exit(run_file(argv[i]));    /* exit: LeakSanitizer runs */
		int st = 0;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "FAIL %s (%s %d)\n", argv[i],
				WIFSIGNALED(st) ? "signal" : "exit",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			failed++;
		} else {
			passed++;
		}
	}
	printf("%s: %d passed, %d failed\n", name, passed, failed);
	return failed ? 1 : 0;
}
