/*
 * fuzz_config.c: libFuzzer harness for the ommd.conf parser: the input is
 * the whole text of a config file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "omm/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct omm_config	 c;
	char			*cause = NULL;

	config_defaults(&c);
	if (config_parse(&c, (const char *)data, size, &cause) == 0) {
		/* what was accepted holds what the parser promised */
		if (c.socket_path == NULL || c.socket_path[0] != '/' ||
		    c.state_dir == NULL || c.state_dir[0] != '/' ||
		    c.verbose < 0 || c.verbose > 9)
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	config_free(&c);
	return 0;
}
