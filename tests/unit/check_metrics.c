/*
 * check_metrics.c: unit tests for metrics.c and metrics-process.c, the
 * text of /metrics.
 *
 * The exposition is checked line by line against the rules of the text
 * format 0.0.4 that promtool applies (metrics.test.js runs promtool itself
 * on a live relay's output): HELP and TYPE once per family and before its
 * samples, no series twice, counters ending in _total, histogram buckets
 * cumulative up to +Inf and equal to _count.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "jsonw.h"
#include "metrics.h"
#include "version.h"

/* Two workers' counters, as a relay lays them out: a stride apart. */
struct fake_worker {
	struct stats stats;
	char other[40];
};

static struct fake_worker workers[2];

/* Renders the fake workers' metrics; returns a malloc'd NUL-terminated copy. */
static char *
render(const char *node, int nconns)
{
	struct metrics_source src = { &workers[0].stats,
	    sizeof(struct fake_worker), 2, node, nconns };
	struct jsonw w;
	char *out;

	jsonw_init(&w);
	metrics_render(&src, &w);
	ck_assert(!w.failed);
	out = malloc(w.len + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, w.buf, w.len);
	out[w.len] = '\0';
	jsonw_free(&w);
	return out;
}

/* Returns the value of the sample line that starts with series, or -1. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	for (;;) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p == NULL)
			return -1;
		p++;
	}
}

/* Returns the length of the metric name at the start of s. */
static size_t
name_len(const char *s)
{
	return strcspn(s, "{ ");
}

/*
 * Checks text against the text format's structure: every sample belongs to
 * the family whose HELP and TYPE came last, each family once, each series
 * once, counters end in _total, histogram buckets are cumulative with a
 * +Inf bucket equal to _count.
 */
static void
check_exposition(const char *text)
{
	static char seen[256][128], series[512][512];
	char fam[128] = "", type[16] = "";
	double last_bucket = -1, inf = -1;
	int nfam = 0, nseries = 0, i;
	const char *line = text, *eol;

	ck_assert_int_gt((int)strlen(text), 0);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	for (; *line != '\0'; line = eol + 1) {
		char l[512], name[128];
		size_t len;

		eol = strchr(line, '\n');
		ck_assert_ptr_nonnull(eol);
		len = (size_t)(eol - line);
		ck_assert_uint_lt(len, sizeof l);
		memcpy(l, line, len);
		l[len] = '\0';
		ck_assert_msg(len > 0, "empty line");
		if (strncmp(l, "# HELP ", 7) == 0) {
			snprintf(fam, sizeof fam, "%.*s", (int)name_len(l + 7),
			    l + 7);
			for (i = 0; i < nfam; i++)
				ck_assert_msg(strcmp(seen[i], fam) != 0,
				    "family %s twice", fam);
			ck_assert_int_lt(nfam, 256);
			snprintf(seen[nfam++], sizeof seen[0], "%s", fam);
			type[0] = '\0';
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			ck_assert_msg(strncmp(l + 7, fam, strlen(fam)) == 0 &&
			    l[7 + strlen(fam)] == ' ', "TYPE %s after HELP %s",
			    l, fam);
			ck_assert_msg(type[0] == '\0', "second TYPE for %s", fam);
			snprintf(type, sizeof type, "%s", l + 8 + strlen(fam));
			ck_assert_msg(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0 ||
			    strcmp(type, "histogram") == 0, "type %s", type);
			if (strcmp(type, "counter") == 0)
				ck_assert_msg(strlen(fam) > 6 && strcmp(fam +
				    strlen(fam) - 6, "_total") == 0,
				    "counter %s without _total", fam);
			else
				ck_assert_msg(strstr(fam, "_total") == NULL,
				    "%s %s ends in _total", type, fam);
			continue;
		}
		ck_assert_msg(l[0] != '#', "stray comment %s", l);
		ck_assert_msg(type[0] != '\0', "sample %s before TYPE", l);
		snprintf(name, sizeof name, "%.*s", (int)name_len(l), l);
		if (strcmp(type, "histogram") == 0) {
			size_t fl = strlen(fam);
			double v = strtod(strchr(l, ' ') + 1, NULL);

			ck_assert_msg(strncmp(name, fam, fl) == 0, "%s", l);
			if (strcmp(name + fl, "_bucket") == 0) {
				ck_assert_msg(v >= last_bucket, "%s", l);
				last_bucket = v;
				if (strstr(l, "{le=\"+Inf\"}") != NULL)
					inf = v;
			} else if (strcmp(name + fl, "_count") == 0) {
				ck_assert_msg(inf >= 0, "_count before +Inf");
				ck_assert_msg(v == inf, "_count %g, +Inf %g",
				    v, inf);
			} else
				ck_assert_msg(strcmp(name + fl, "_sum") == 0,
				    "%s", l);
		} else
			ck_assert_msg(strcmp(name, fam) == 0,
			    "sample %s in family %s", l, fam);
		*strrchr(l, ' ') = '\0';
		for (i = 0; i < nseries; i++)
			ck_assert_msg(strcmp(series[i], l) != 0,
			    "series %s twice", l);
		ck_assert_int_lt(nseries, 512);
		snprintf(series[nseries++], sizeof series[0], "%s", l);
	}
}

/* Clears the fake workers' counters before each test. */
static void
setup(void)
{
	memset(workers, 0, sizeof workers);
}

START_TEST(test_latency_buckets)
{
	struct stats *s = &workers[0].stats;

	metrics_latency(s, 50000);		/* 50 us */
	metrics_latency(s, 100000);		/* 0.1 ms: the first bound */
	metrics_latency(s, 3000000000ull);	/* 3 s */
	metrics_latency(s, 10000000000ull);	/* 10 s: the last bound */
	metrics_latency(s, 20000000000ull);	/* 20 s: only +Inf */
	ck_assert_uint_eq(s->lat_bucket[0], 2);
	ck_assert_uint_eq(s->lat_bucket[METRICS_LAT_BUCKETS - 3], 1);	/* 5 */
	ck_assert_uint_eq(s->lat_bucket[METRICS_LAT_BUCKETS - 2], 1);	/* 10 */
	ck_assert_uint_eq(s->lat_bucket[METRICS_LAT_BUCKETS - 1], 1);	/* +Inf */
	ck_assert_uint_eq(s->lat_sum_ns, 33000150000ull);
}
END_TEST

START_TEST(test_render_structure)
{
	char *t;

	/* Some of everything, split over the two workers. */
	metrics_add(&workers[0].stats.frames_in, 3);
	metrics_add(&workers[1].stats.frames_in, 4);
	metrics_add(&workers[0].stats.bytes_in, 100);
	metrics_add(&workers[1].stats.bytes_out, 250);
	metrics_add(&workers[1].stats.closes[CLOSE_SLOW], 2);
	metrics_add(&workers[0].stats.closes[CLOSE_KICKED], 1);
	metrics_add(&workers[0].stats.errors[0], 5);
	metrics_set(&workers[0].stats.users, 2);
	metrics_set(&workers[1].stats.users, 1);
	metrics_latency(&workers[0].stats, 200000);	/* 0.2 ms */
	metrics_latency(&workers[1].stats, 1500000000);	/* 1.5 s */
	metrics_latency(&workers[1].stats, 7);
	t = render("node-1", 9);
	check_exposition(t);
	ck_assert(sample(t, "chatrelay_frames_in_total") == 7);
	ck_assert(sample(t, "chatrelay_received_bytes_total") == 100);
	ck_assert(sample(t, "chatrelay_sent_bytes_total") == 250);
	ck_assert(sample(t, "chatrelay_connections") == 9);
	ck_assert(sample(t, "chatrelay_users") == 3);
	ck_assert(sample(t, "chatrelay_workers") == 2);
	ck_assert(sample(t, "chatrelay_drops_total") == 2);
	ck_assert(sample(t,
	    "chatrelay_disconnections_total{reason=\"slow_consumer\"}") == 2);
	ck_assert(sample(t,
	    "chatrelay_disconnections_total{reason=\"kicked\"}") == 1);
	ck_assert(sample(t, "chatrelay_errors_total{code=\"bad_json\"}") == 5);
	ck_assert(sample(t,
	    "chatrelay_build_info{version=\"" CHATRELAY_VERSION "\",node=\"node-1\"}")
	    == 1);
	/* The histogram, in seconds. */
	ck_assert(sample(t,
	    "chatrelay_bus_publish_seconds_bucket{le=\"0.0001\"}") == 1);
	ck_assert(sample(t,
	    "chatrelay_bus_publish_seconds_bucket{le=\"0.00025\"}") == 2);
	ck_assert(sample(t,
	    "chatrelay_bus_publish_seconds_bucket{le=\"1\"}") == 2);
	ck_assert(sample(t,
	    "chatrelay_bus_publish_seconds_bucket{le=\"2.5\"}") == 3);
	ck_assert(sample(t,
	    "chatrelay_bus_publish_seconds_bucket{le=\"10\"}") == 3);
	ck_assert(sample(t,
	    "chatrelay_bus_publish_seconds_bucket{le=\"+Inf\"}") == 3);
	ck_assert(sample(t, "chatrelay_bus_publish_seconds_count") == 3);
	ck_assert_ptr_nonnull(strstr(t,
	    "\nchatrelay_bus_publish_seconds_sum 1.500200007\n"));
	/* The process_* metrics of this very process. */
	ck_assert(sample(t, "process_resident_memory_bytes") > 0);
	ck_assert(sample(t, "process_open_fds") > 0);
	ck_assert(sample(t, "process_start_time_seconds") > 1e9);
	free(t);
}
END_TEST

START_TEST(test_render_empty)
{
	char *t = render("n1", 0);

	/* Every series is there at 0 before anything happened. */
	check_exposition(t);
	ck_assert(sample(t, "chatrelay_frames_in_total") == 0);
	ck_assert(sample(t, "chatrelay_bus_publish_seconds_count") == 0);
	ck_assert(sample(t, "chatrelay_bus_publish_seconds_sum") == 0);
	ck_assert(sample(t,
	    "chatrelay_disconnections_total{reason=\"other\"}") == 0);
	ck_assert_ptr_null(strstr(t, "chatrelay_info"));
	free(t);
}
END_TEST

START_TEST(test_label_escaping)
{
	char *t = render("a\"b\\c\nd", 0);

	check_exposition(t);
	ck_assert_ptr_nonnull(strstr(t, ",node=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(t);
}
END_TEST

START_TEST(test_parse_stat)
{
	/* A command name with spaces and parentheses, as a process may set. */
	const char *stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1500 0"
	    " 0 0 12 7 0 0 20 0 3 0 123456 161304576 1923 18446744073709551615"
	    " 1 1 0 0 0 0 0 4096 0 0 0 17 0 0 0 0 0 0\n";
	struct process_stats ps = { -1, -1, -1, -1, -1, -1 };

	ck_assert_int_eq(metrics_process_parse_stat(stat, 1700000000, 100,
	    4096, &ps), 0);
	ck_assert_int_eq(ps.virtual_bytes, 161304576);
	ck_assert_int_eq(ps.resident_bytes, 1923 * 4096);
	ck_assert(ps.start_time == 1700000000 + 1234.56);
	/* Without a boot time, no start time; the rest still parses. */
	ck_assert_int_eq(metrics_process_parse_stat(stat, -1, 100, 4096, &ps),
	    0);
	ck_assert(ps.start_time == -1);
	ck_assert_int_eq(ps.resident_bytes, 1923 * 4096);
	/* Not the format: refused, ps untouched. */
	ps.virtual_bytes = 1;
	ck_assert_int_eq(metrics_process_parse_stat("4242 (x) S 1 2 3", 0,
	    100, 4096, &ps), -1);
	ck_assert_int_eq(metrics_process_parse_stat("no parens 1 2 3", 0,
	    100, 4096, &ps), -1);
	ck_assert_int_eq(metrics_process_parse_stat("1 (x) S 1 1 1 0 -1 0 0 0"
	    " 0 0 1 1 0 0 20 0 1 0 x 1 1\n", 0, 100, 4096, &ps), -1);
	ck_assert_int_eq(metrics_process_parse_stat(stat, 0, 0, 4096, &ps),
	    -1);
	ck_assert_int_eq(ps.virtual_bytes, 1);
}
END_TEST

START_TEST(test_parse_btime)
{
	int64_t b = 0;

	ck_assert_int_eq(metrics_process_parse_btime("cpu  1 2 3\n"
	    "intr 1 2 3 4\nctxt 99\nbtime 1796409243\nprocesses 7\n", &b), 0);
	ck_assert_int_eq(b, 1796409243);
	ck_assert_int_eq(metrics_process_parse_btime("btime 5", &b), 0);
	ck_assert_int_eq(b, 5);
	ck_assert_int_eq(metrics_process_parse_btime("cpu 1\nxbtime 3\n", &b),
	    -1);
	ck_assert_int_eq(metrics_process_parse_btime("", &b), -1);
}
END_TEST

START_TEST(test_process_read)
{
	struct process_stats ps, ps2;
	volatile double x = 0;
	int fd, i;

	ck_assert_int_eq(metrics_process_read(&ps), 0);
	ck_assert(ps.cpu_seconds >= 0);
	ck_assert_int_gt(ps.resident_bytes, 0);
	ck_assert_int_ge(ps.virtual_bytes, ps.resident_bytes);
	ck_assert_int_gt(ps.open_fds, 0);
	ck_assert_int_gt(ps.max_fds, ps.open_fds);
	ck_assert(ps.start_time <= (double)time(NULL) + 1);
	ck_assert(ps.start_time > (double)time(NULL) - 600);

	/* One more descriptor is counted; some work shows as CPU time. */
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 20000000; i++)
		x += i;
	ck_assert_int_eq(metrics_process_read(&ps2), 0);
	ck_assert_int_eq(ps2.open_fds, ps.open_fds + 1);
	ck_assert(ps2.cpu_seconds > ps.cpu_seconds);
	ck_assert(ps2.start_time > ps.start_time - 1 &&
	    ps2.start_time < ps.start_time + 1);
	close(fd);
}
END_TEST

START_TEST(test_render_process)
{
	struct process_stats ps = { 1.25, 1796409300.5, 8192, 65536, 12, 1024 };
	struct jsonw w;

	jsonw_init(&w);
	metrics_render_process(&ps, &w);
	jsonw_raw(&w, "", 1);
	ck_assert_str_eq(w.buf,
	    "# HELP process_cpu_seconds_total Total user and system CPU time "
	    "spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total 1.250000\n"
	    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes 8192\n"
	    "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
	    "# TYPE process_virtual_memory_bytes gauge\n"
	    "process_virtual_memory_bytes 65536\n"
	    "# HELP process_open_fds Number of open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds 12\n"
	    "# HELP process_max_fds Maximum number of open file descriptors.\n"
	    "# TYPE process_max_fds gauge\n"
	    "process_max_fds 1024\n"
	    "# HELP process_start_time_seconds Start time of the process since "
	    "unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds 1796409300.50\n");

	/* What could not be read is left out, family and all. */
	jsonw_reset(&w);
	ps.resident_bytes = ps.max_fds = -1;
	ps.start_time = -1;
	metrics_render_process(&ps, &w);
	jsonw_raw(&w, "", 1);
	check_exposition(w.buf);
	ck_assert_ptr_null(strstr(w.buf, "resident"));
	ck_assert_ptr_null(strstr(w.buf, "max_fds"));
	ck_assert_ptr_null(strstr(w.buf, "start_time"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\nprocess_open_fds 12\n"));
	jsonw_free(&w);
}
END_TEST

/* Builds the suite of metrics tests. */
static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_latency_buckets);
	tcase_add_test(tc, test_render_structure);
	tcase_add_test(tc, test_render_empty);
	tcase_add_test(tc, test_label_escaping);
	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_parse_btime);
	tcase_add_test(tc, test_process_read);
	tcase_add_test(tc, test_render_process);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(metrics_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
