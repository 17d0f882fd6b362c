/*
 * main.c: chatrelay-bench, the load generator shipped with chatrelay.
 *
 * It is a client written from scratch: it does not link libchatrelay.a, so
 * the relay's protocol code is checked by independent code rather than by
 * itself.  See doc/chatrelay-bench.1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/resource.h>

#include "options.h"
#include "report.h"
#include "run.h"

/* Raises the soft limit on open files to the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_result *r;
	int rc;

	rc = options_parse(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	r = malloc(sizeof(*r));
	if (r == NULL) {
		fprintf(stderr, "chatrelay-bench: out of memory\n");
		return 1;
	}
	rc = run_bench(&o, r);
	if (rc == 0) {
		if (o.json)
			report_json(stdout, r);
		else
			report_table(stdout, r);
		if (fflush(stdout) != 0)
			rc = 1;
	}
	free(r);
	return rc;
}
