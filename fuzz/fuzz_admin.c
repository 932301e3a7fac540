/* fuzz_admin.c: libFuzzer harness for the admin settings file parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/admin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin	 a, b;
	struct buf	 out;
	char		*cause = NULL;
	uint16_t	 s;

	if (admin_parse(&a, (const char *)data, size, &cause) == 0) {
		/* what parses formats and parses back the same */
		buf_init(&out);
		admin_format(&a, &out);
		if (admin_parse(&b, (const char *)out.data, out.len,
		    &cause) != 0 || memcmp(&a, &b, sizeof a) != 0)
			abort();
		buf_free(&out);
		/*
		 * Every setting's value, applied again as omctl set would,
		 * changes nothing (the negated balance included).
		 */
		for (s = 1; s < ADMIN_NSETTINGS; s++) {
			if (admin_apply(&b, s, admin_get(&a, s), &cause) != 0 ||
			    memcmp(&a, &b, sizeof a) != 0)
				abort();
		}
	}
	free(cause);
	return 0;
}
