/*
 * redis-server.c: starting and killing real redis-server and
 * redis-sentinel processes for the Check suites (check_redis,
 * check_scripts, check_sentinel).
 *
 * Each server listens on 127.0.0.1 only, saves nothing (not even what a
 * replica is sent) and logs only warnings, to /dev/null (to stderr with
 * CHECK_REDIS_LOG set).  A server counts as started once it answers PING
 * (PONG, or NOAUTH when it wants a password).  A sentinel gets its
 * configuration file, which it rewrites, in a temporary directory of its
 * own.  Every running process's pid is kept in a small table so a
 * teardown can kill what a failed test left.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "redis-server.h"

#define TEST_REDIS_MAX 16		/* servers and sentinels running at once */
#define TEST_REDIS_TRIES 1000		/* PINGs before giving up... */
#define TEST_REDIS_PAUSE_US 10000	/* ...this far apart */

static pid_t	 test_redis_pids[TEST_REDIS_MAX];	/* running, or 0 */

int
test_redis_free_port(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof sa;
	int			 fd, port;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Returns true if the server on port (or unix socket sock, if not "") answers PING (PONG, or NOAUTH). */
static bool
test_redis_answers(int port, const char *sock)
{
	struct sockaddr_in	 sin;
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[64];
	ssize_t			 n;
	int			 fd, rv;

	if (sock[0] != '\0') {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
		rv = fd < 0 ? -1 :
		    connect(fd, (struct sockaddr *)&sun, sizeof sun);
	} else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rv = fd < 0 ? -1 :
		    connect(fd, (struct sockaddr *)&sin, sizeof sin);
	}
	if (fd < 0)
		return false;
	if (rv != 0 || send(fd, "PING\r\n", 6, MSG_NOSIGNAL) != 6) {
		close(fd);
		return false;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	n = poll(&pfd, 1, 500) == 1 ? read(fd, buf, sizeof buf - 1) : -1;
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strncmp(buf, "+PONG", 5) == 0 || strncmp(buf, "-NOAUTH", 7) == 0;
}

/* Forgets pid in the table of running servers. */
static void
test_redis_forget(pid_t pid)
{
	int	 i;

	for (i = 0; i < TEST_REDIS_MAX; i++) {
		if (test_redis_pids[i] == pid)
			test_redis_pids[i] = 0;
	}
}

/* Kills process pid with SIGKILL, reaps it and forgets it. */
static void
test_redis_kill_pid(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	test_redis_forget(pid);
}

bool
test_redis_available(void)
{
	return system(TEST_REDIS_BIN " --version >/dev/null 2>&1") == 0;
}

void
test_redis_init(struct test_redis *s, const char *pass)
{
	memset(s, 0, sizeof *s);
	s->port = test_redis_free_port();
	if (pass != NULL)
		snprintf(s->pass, sizeof s->pass, "%s", pass);
}

/*
 * Starts bin with argv, keeps its pid in the table, and waits until it
 * answers on port (or sock).  Returns the pid.
 */
static pid_t
test_redis_spawn(const char *bin, const char *const *argv, int port,
    const char *sock)
{
	int		 i, devnull;
	pid_t		 pid;

	for (i = 0; i < TEST_REDIS_MAX && test_redis_pids[i] != 0; i++)
		;
	ck_assert_msg(i < TEST_REDIS_MAX, "more than %d redis processes",
	    TEST_REDIS_MAX);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(devnull, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)dup2(devnull, 1);
		if (getenv("CHECK_REDIS_LOG") != NULL)
			(void)dup2(2, 1);
		else
			(void)dup2(devnull, 2);
		execvp(bin, (char *const *)argv);
		_exit(127);
	}
	close(devnull);
	test_redis_pids[i] = pid;
	for (i = 0; i < TEST_REDIS_TRIES && !test_redis_answers(port, sock);
	    i++) {
		/* Gone already (not installed, or the port was taken). */
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			test_redis_forget(pid);
			ck_abort_msg("%s exited at start on port %d (is it "
			    "installed?)", bin, port);
		}
		usleep(TEST_REDIS_PAUSE_US);
	}
	ck_assert_msg(i < TEST_REDIS_TRIES, "%s did not start on port %d",
	    bin, port);
	return pid;
}

void
test_redis_start(struct test_redis *s)
{
	char		 port[16], master[16];
	const char	*argv[28];
	int		 argc = 0;

	ck_assert_msg(s->pid == 0, "redis-server on port %d already running",
	    s->port);
	snprintf(port, sizeof port, "%d", s->port);
	argv[argc++] = TEST_REDIS_BIN;
	argv[argc++] = "--port";
	argv[argc++] = port;
	argv[argc++] = "--bind";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "--save";
	argv[argc++] = "";
	argv[argc++] = "--appendonly";
	argv[argc++] = "no";
	/*
	 * A replica (or a master that a failover turns into one) would write
	 * the master's data to dump.rdb in the working directory, the build
	 * directory, where make distcheck finds it left after distclean.
	 */
	argv[argc++] = "--repl-diskless-load";
	argv[argc++] = "swapdb";
	argv[argc++] = "--daemonize";
	argv[argc++] = "no";
	argv[argc++] = "--loglevel";
	argv[argc++] = "warning";
	if (s->pass[0] != '\0') {
		argv[argc++] = "--requirepass";
		argv[argc++] = s->pass;
	}
	if (s->sock[0] != '\0') {
		argv[argc++] = "--unixsocket";
		argv[argc++] = s->sock;
		argv[argc++] = "--unixsocketperm";
		argv[argc++] = "700";
	}
	if (s->replicaof != 0) {
		snprintf(master, sizeof master, "%d", s->replicaof);
		argv[argc++] = "--replicaof";
		argv[argc++] = "127.0.0.1";
		argv[argc++] = master;
		if (s->pass[0] != '\0') {
			argv[argc++] = "--masterauth";
			argv[argc++] = s->pass;
		}
	}
	argv[argc] = NULL;
	s->pid = test_redis_spawn(TEST_REDIS_BIN, argv, s->port, s->sock);
}

void
test_redis_kill(struct test_redis *s)
{
	if (s->pid > 0)
		test_redis_kill_pid(s->pid);
	s->pid = 0;
}

void
test_redis_kill_all(void)
{
	int	 i;

	for (i = 0; i < TEST_REDIS_MAX; i++) {
		if (test_redis_pids[i] != 0)
			test_redis_kill_pid(test_redis_pids[i]);
	}
}

/* Returns milliseconds on a clock that only goes forward. */
static long long
test_redis_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to 127.0.0.1:port (AUTH pass unless NULL or ""), or returns NULL. */
static redisContext *
test_redis_connect(int port, const char *pass)
{
	struct timeval	 tv = { 0, 500000 };
	redisContext	*c;
	redisReply	*r;

	c = redisConnectWithTimeout("127.0.0.1", port, tv);
	if (c == NULL || c->err != 0) {
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	(void)redisSetTimeout(c, tv);
	if (pass != NULL && pass[0] != '\0') {
		r = redisCommand(c, "AUTH %s", pass);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

bool
test_redis_wait_synced(const struct test_redis *s, int ms)
{
	long long	 end = test_redis_now_ms() + ms;
	redisContext	*c;
	redisReply	*r;
	bool		 up = false;

	while (!up && test_redis_now_ms() < end) {
		if ((c = test_redis_connect(s->port, s->pass)) != NULL) {
			r = redisCommand(c, "INFO replication");
			up = r != NULL && r->type == REDIS_REPLY_STRING &&
			    strstr(r->str, "master_link_status:up") != NULL;
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
		}
		if (!up)
			usleep(50000);
	}
	return up;
}

bool
test_sentinel_available(void)
{
	return system(TEST_SENTINEL_BIN " --version >/dev/null 2>&1") == 0;
}

void
test_sentinel_init(struct test_sentinel *s, const char *master,
    const struct test_redis *m, int quorum)
{
	const char	*tmp = getenv("TMPDIR");

	memset(s, 0, sizeof *s);
	s->port = test_redis_free_port();
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 30)
		tmp = "/tmp";
	snprintf(s->dir, sizeof s->dir, "%s/check_sentinel.XXXXXX", tmp);
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->conf, sizeof s->conf, "%s/sentinel.conf", s->dir);
	snprintf(s->master, sizeof s->master, "%s", master);
	s->master_port = m->port;
	s->quorum = quorum;
	snprintf(s->pass, sizeof s->pass, "%s", m->pass);
}

void
test_sentinel_start(struct test_sentinel *s)
{
	const char	*argv[3];
	FILE		*f;

	ck_assert_msg(s->pid == 0, "sentinel on port %d already running",
	    s->port);
	/* Fresh each time: a sentinel rewrites its file with what it learnt. */
	f = fopen(s->conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "port %d\nbind 127.0.0.1\ndaemonize no\nlogfile \"\"\n"
	    "loglevel warning\ndir %s\n"
	    "sentinel monitor %s 127.0.0.1 %d %d\n"
	    "sentinel down-after-milliseconds %s 1000\n"
	    "sentinel failover-timeout %s 4000\n"
	    "sentinel parallel-syncs %s 1\n",
	    s->port, s->dir, s->master, s->master_port, s->quorum, s->master,
	    s->master, s->master);
	if (s->pass[0] != '\0')
		fprintf(f, "sentinel auth-pass %s %s\n", s->master, s->pass);
	ck_assert_int_eq(fclose(f), 0);
	argv[0] = TEST_SENTINEL_BIN;
	argv[1] = s->conf;
	argv[2] = NULL;
	s->pid = test_redis_spawn(TEST_SENTINEL_BIN, argv, s->port, "");
}

/* Returns the number of elements of the array that command (one with the master's name) answers on c, or -1. */
static int
test_sentinel_count(redisContext *c, const char *what, const char *master)
{
	redisReply	*r;
	int		 n = -1;

	r = redisCommand(c, "SENTINEL %s %s", what, master);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY)
		n = (int)r->elements;
	if (r != NULL)
		freeReplyObject(r);
	return n;
}

bool
test_sentinel_wait(const struct test_sentinel *s, int sentinels,
    int replicas, int ms)
{
	long long	 end = test_redis_now_ms() + ms;
	redisContext	*c;
	bool		 ok = false;

	while (!ok && test_redis_now_ms() < end) {
		if ((c = test_redis_connect(s->port, NULL)) != NULL) {
			ok = test_sentinel_count(c, "sentinels", s->master) >=
			    sentinels && test_sentinel_count(c, "replicas",
			    s->master) >= replicas;
			redisFree(c);
		}
		if (!ok)
			usleep(50000);
	}
	return ok;
}

void
test_sentinel_kill(struct test_sentinel *s)
{
	if (s->pid > 0)
		test_redis_kill_pid(s->pid);
	s->pid = 0;
}

void
test_sentinel_cleanup(struct test_sentinel *s)
{
	char		 path[384];
	struct dirent	*e;
	DIR		*d;

	test_sentinel_kill(s);
	if (s->dir[0] == '\0')
		return;
	/* Its file, and any temporary file a rewrite left. */
	if ((d = opendir(s->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
			(void)unlink(path);
		}
		closedir(d);
	}
	(void)rmdir(s->dir);
	s->dir[0] = '\0';
}
