/* omctl-image.c: omctl image info FILE [--json]: describe an image, no daemon needed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/image.h"

#include "omctl.h"

static int
image_info(const struct omctl_cmd *self, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char			*file;
	char				*cause = NULL;
	int				 ch, json = 0, fd, rv;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			return omctl_usage(self);
		json = 1;
	}
	if (optind != argc - 1)
		return omctl_usage(self);
	file = argv[optind];
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return omctl_error("image info %s: %s", file, strerror(errno));
	rv = img_info(fd, stdout, json, &cause);
	close(fd);
	if (fflush(stdout) == EOF && rv == 0)
		return omctl_error("image info %s: %s", file, strerror(errno));
	if (rv != 0) {
		omctl_error("image info %s: %s", file, cause);
		free(cause);
		return 1;
	}
	return 0;
}

/* Subcommands of image; only info for now. */
static int
cmd_image(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	if (argc < 2 || strcmp(argv[1], "info") != 0)
		return omctl_usage(self);
	/* getopt sees "info FILE ..." with "info" as its argv[0] */
	return image_info(self, argc - 1, argv + 1);
}

const struct omctl_cmd cmd_image_entry = {
	.name = "image",
	.alias = "img",
	.usage = "info FILE [--json]",
	.help = "describe an image file: its process, mappings, descriptors, "
	    "signals, timers",
	.exec = cmd_image,
};
