/*
 * redis-server.c: starting and killing real redis-server processes for the
 * Check suites (check_redis, check_scripts).
 *
 * Each server listens on 127.0.0.1 only, saves nothing and logs only
 * warnings, to /dev/null.  A server counts as started once it answers PING
 * (PONG, or NOAUTH when it wants a password).  Every running server's pid is
 * kept in a small table so a teardown can kill what a failed test left.
 */
#include <arpa/inet.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "redis-server.h"

#define TEST_REDIS_MAX 8		/* servers running at once */
#define TEST_REDIS_TRIES 1000		/* PINGs before giving up... */
#define TEST_REDIS_PAUSE_US 10000	/* ...this far apart */

static pid_t	 test_redis_pids[TEST_REDIS_MAX];	/* running, or 0 */

/* Returns a loopback TCP port that nothing listens on just now. */
static int
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

/* Returns true if s's server answers PING (PONG, or NOAUTH when it wants a password). */
static bool
test_redis_answers(const struct test_redis *s)
{
	struct sockaddr_in	 sin;
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[64];
	ssize_t			 n;
	int			 fd, rv;

	if (s->sock[0] != '\0') {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", s->sock);
		rv = fd < 0 ? -1 :
		    connect(fd, (struct sockaddr *)&sun, sizeof sun);
	} else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)s->port);
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

void
test_redis_start(struct test_redis *s)
{
	char		 port[16];
	const char	*argv[24];
	int		 argc = 0, i, devnull;
	pid_t		 pid;

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
	argv[argc] = NULL;
	for (i = 0; i < TEST_REDIS_MAX && test_redis_pids[i] != 0; i++)
		;
	ck_assert_msg(i < TEST_REDIS_MAX, "more than %d redis-servers",
	    TEST_REDIS_MAX);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(devnull, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)dup2(devnull, 1);
		(void)dup2(devnull, 2);
		execvp(TEST_REDIS_BIN, (char *const *)argv);
		_exit(127);
	}
	close(devnull);
	s->pid = pid;
	test_redis_pids[i] = pid;
	for (i = 0; i < TEST_REDIS_TRIES && !test_redis_answers(s); i++) {
		/* Gone already (not installed, or the port was taken). */
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			test_redis_forget(pid);
			s->pid = 0;
			ck_abort_msg("redis-server exited at start on port %d "
			    "(is it installed?)", s->port);
		}
		usleep(TEST_REDIS_PAUSE_US);
	}
	ck_assert_msg(i < TEST_REDIS_TRIES, "redis-server did not start on "
	    "port %d", s->port);
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
