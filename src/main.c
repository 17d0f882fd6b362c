/*
 * main.c: chatrelay's entry point: read the configuration, run the relay.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "server.h"

int
main(int argc, char **argv)
{
	static struct server srv;

	switch (config_parse_args(&srv.cfg, argc, argv, stdout, stderr)) {
	case CONFIG_EXIT_OK:
		return 0;
	case CONFIG_EXIT_ERR:
		return 1;
	default:
		break;
	}
	return server_run(&srv);
}
