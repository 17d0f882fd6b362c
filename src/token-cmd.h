/*
 * token-cmd.h: `chatrelay token`, which prints an HS256 token signed with
 * the configured secret.
 */
#ifndef CHATRELAY_TOKEN_CMD_H
#define CHATRELAY_TOKEN_CMD_H

#include <stdio.h>

/* The longest --ttl: ten years of 365 days, in seconds. */
#define TOKEN_TTL_MAX 315360000

/*
 * Runs `chatrelay token` with its arguments (argv[0] is "token"): reads the
 * configuration as the daemon does, then prints the token and a newline to
 * outf.  Every problem is reported to errf.  Returns the exit status: 0, or
 * 1 on any error (also for a bad configuration).
 */
int token_cmd_main(int argc, char **argv, FILE *outf, FILE *errf);

#endif
