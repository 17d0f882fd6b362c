/*
 * main.c: chatrelay's entry point: read the configuration, run the relay;
 * or run the one subcommand, `chatrelay token`.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "relay.h"
#include "server.h"
#include "token-cmd.h"

int
main(int argc, char **argv)
{
	static struct relay srv;

	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return token_cmd_main(argc - 1, argv + 1, stdout, stderr);

	/*
	 * lws allocates about 6 KB of header buffers for each WebSocket
	 * handshake and frees them once the connection is upgraded.  From
	 * the heap, they leave holes between the connections' long-lived
	 * allocations: about 100 bytes of RSS per idle connection (measured
	 * with chatrelay-bench --scenario idle).  Served by mmap, as every
	 * allocation of 4 KB or more is from here on, they leave nothing.
	 */
	mallopt(M_MMAP_THRESHOLD, 4096);
	switch (config_parse_args(&srv.cfg, &srv.src, argc, argv, stdout,
	    stderr)) {
	case CONFIG_EXIT_OK:
		return 0;
	case CONFIG_EXIT_ERR:
		return 1;
	default:
		break;
	}
	return server_run(&srv);
}
