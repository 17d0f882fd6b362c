/*
 * token-cmd.c: `chatrelay token`: prints an HS256 token signed with the
 * configured secret, for trying the relay, tests and tools.
 *
 * The configuration is read by the daemon's own code (config_parse_command:
 * the same file, the same --NAME VALUE directives, the same checks), so the
 * token is signed with exactly the secret the relay would verify it with.
 * Claims are checked by auth_sign_jwt, by the verifier's rules; this file
 * only turns the options into claims.  stdout gets the token and a newline
 * and nothing else, so that tok=$(chatrelay token ...) works; every problem
 * goes to errf, and the secret is never printed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "chan.h"
#include "config.h"
#include "token-cmd.h"

#define TOKEN_PROG "chatrelay token"

/* The subcommand's own options, in the order of the usage text. */
enum { OPT_SUB, OPT_NAME, OPT_ROLE, OPT_TTL, OPT_CHS, OPT_COUNT };

/* Writes the subcommand's usage to f. */
static void
token_print_usage(FILE *f)
{
	fprintf(f,
	    "usage: chatrelay token [-c FILE] [--NAME VALUE ...] --sub ID "
	    "[--name NAME]\n"
	    "                       [--role ROLE] [--ttl SECS] "
	    "[--chs PATTERN,...]\n"
	    "\n"
	    "Prints an HS256 token (JWT) signed with the configured secret, "
	    "and a newline.\n"
	    "The configuration is read as the relay reads it: -c FILE and "
	    "--NAME VALUE\n"
	    "directives (e.g. --secret S), see chatrelay --help.\n"
	    "\n"
	    "  --sub ID            the user id: 1-%d bytes of printable ASCII "
	    "without spaces\n"
	    "  --name NAME         the display name: 1-%d bytes of UTF-8 "
	    "(default: the id)\n"
	    "  --role ROLE         player (default), moderator or admin\n"
	    "  --ttl SECS          valid for SECS seconds from now (default "
	    "3600); 0 = no\n"
	    "                      expiry; at most %d (10 years)\n"
	    "  --chs PATTERN,...   the channels it may join: names, "
	    "\"prefix*\" or \"*\", at\n"
	    "                      most %d (default: every channel; \"\" = "
	    "none)\n"
	    "  --help              print this help and exit\n",
	    USER_ID_MAX, USER_NAME_MAX, TOKEN_TTL_MAX, AUTH_CHS_MAX);
}

/*
 * Parses a --ttl value: whole seconds, 0 to TOKEN_TTL_MAX, digits only.
 * Returns 0 with *ttl set, or -1.
 */
static int
token_parse_ttl(const char *s, int64_t *ttl)
{
	int64_t	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > TOKEN_TTL_MAX)
			return -1;
	}
	*ttl = v;
	return 0;
}

/* Returns true if c is a blank that may stand around a comma of --chs. */
static bool
token_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits a --chs value at its commas into pats (AUTH_CHS_MAX rows), each
 * checked as a channel pattern, blanks around them ignored; "" is the empty
 * list.  Returns the number of patterns, or -1 after reporting to errf.
 */
static int
token_parse_chs(const char *s, char pats[][CHAN_NAME_MAX + 2], FILE *errf)
{
	const char	*p = s, *end, *a, *b;
	size_t		 len;
	int		 n = 0;

	while (token_blank(*p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (a = p; a < end && token_blank(*a); a++)
			;
		for (b = end; b > a && token_blank(b[-1]); b--)
			;
		len = (size_t)(b - a);
		if (len == 0) {
			fprintf(errf, "%s: bad --chs: an empty pattern (two "
			    "commas in a row, or one at an end)\n", TOKEN_PROG);
			return -1;
		}
		if (len > CHAN_NAME_MAX + 1 || !chan_pattern_valid(a, len)) {
			fprintf(errf, "%s: bad --chs: \"%.*s\" is not a channel "
			    "pattern: a channel name (1-%d bytes of A-Z a-z 0-9 "
			    "_ . : -), optionally ending in '*', or '*' alone\n",
			    TOKEN_PROG, len > 80 ? 80 : (int)len, a,
			    CHAN_NAME_MAX);
			return -1;
		}
		if (n == AUTH_CHS_MAX) {
			fprintf(errf, "%s: bad --chs: more than %d patterns\n",
			    TOKEN_PROG, AUTH_CHS_MAX);
			return -1;
		}
		memcpy(pats[n], a, len);
		pats[n++][len] = '\0';
		if (*end == '\0')
			return n;
		p = end + 1;
	}
}

/*
 * Turns the options into claims (pats and chs hold the patterns).  Returns
 * 0, or -1 after reporting to errf.
 */
static int
token_claims(const struct config_option *opt, struct auth_claims *c,
    char pats[][CHAN_NAME_MAX + 2], const char **chs, FILE *errf)
{
	int64_t	ttl = 3600;
	int	r, n, i;

	memset(c, 0, sizeof *c);
	if ((c->sub = opt[OPT_SUB].value) == NULL) {
		fprintf(errf, "%s: --sub ID is required: the user id the token "
		    "is for\n", TOKEN_PROG);
		return -1;
	}
	c->name = opt[OPT_NAME].value;
	c->role = ROLE_PLAYER;
	if (opt[OPT_ROLE].value != NULL) {
		if ((r = auth_role_parse(opt[OPT_ROLE].value)) < 0) {
			fprintf(errf, "%s: bad --role \"%.32s\": player, "
			    "moderator or admin\n", TOKEN_PROG,
			    opt[OPT_ROLE].value);
			return -1;
		}
		c->role = (enum role)r;
	}
	if (opt[OPT_TTL].value != NULL &&
	    token_parse_ttl(opt[OPT_TTL].value, &ttl) != 0) {
		fprintf(errf, "%s: bad --ttl \"%.32s\": whole seconds from 0 "
		    "(no expiry) to %d (10 years)\n", TOKEN_PROG,
		    opt[OPT_TTL].value, TOKEN_TTL_MAX);
		return -1;
	}
	c->exp = ttl == 0 ? 0 : (int64_t)time(NULL) + ttl;
	if (opt[OPT_CHS].value != NULL) {
		if ((n = token_parse_chs(opt[OPT_CHS].value, pats, errf)) < 0)
			return -1;
		for (i = 0; i < n; i++)
			chs[i] = pats[i];
		c->chs = chs;
		c->nchs = n;
	}
	return 0;
}

int
token_cmd_main(int argc, char **argv, FILE *outf, FILE *errf)
{
	static struct config	 cfg;
	struct config_option	 opt[OPT_COUNT] = {
		[OPT_SUB] = { .name = "sub" },
		[OPT_NAME] = { .name = "name" },
		[OPT_ROLE] = { .name = "role" },
		[OPT_TTL] = { .name = "ttl" },
		[OPT_CHS] = { .name = "chs" },
	};
	char			 pats[AUTH_CHS_MAX][CHAN_NAME_MAX + 2];
	const char		*chs[AUTH_CHS_MAX];
	char			 tok[AUTH_TOKEN_MAX + 1];
	struct auth_claims	 claims;
	const char		*why = NULL;
	int			 rc;

	switch (config_parse_command(&cfg, TOKEN_PROG, argc, argv, opt,
	    OPT_COUNT, errf)) {
	case CONFIG_EXIT_OK:
		token_print_usage(outf);
		return 0;
	case CONFIG_EXIT_ERR:
		return 1;
	default:
		break;
	}
	if (token_claims(opt, &claims, pats, chs, errf) != 0)
		goto usage;
	if (cfg.secret[0] == '\0') {
		fprintf(errf, "%s: no secret is configured (the relay would run "
		    "in open mode, where\nno token is accepted): set `secret` in "
		    "the configuration file (-c FILE)\nor give --secret VALUE, "
		    "the same secret the relay runs with\n", TOKEN_PROG);
		return 1;
	}
	if (auth_sign_jwt(&claims, cfg.secret, tok, sizeof tok, &why) != 0) {
		fprintf(errf, "%s: %s\n", TOKEN_PROG, why);
		goto usage;
	}
	rc = fprintf(outf, "%s\n", tok) < 0 || fflush(outf) != 0 ? 1 : 0;
	OPENSSL_cleanse(tok, sizeof tok);
	OPENSSL_cleanse(cfg.secret, sizeof cfg.secret);
	if (rc != 0)
		fprintf(errf, "%s: cannot write the token\n", TOKEN_PROG);
	return rc;

usage:
	fprintf(errf, "Try '%s --help'.\n", TOKEN_PROG);
	return 1;
}
