/* fuzz_nodemap.c: libFuzzer harness for the static map parser and node addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/nodemap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nodemap		 m;
	struct node_addr	 a;
	char			*cause = NULL, *s, buf[NODE_ADDR_STRLEN];
	size_t			 i;

	if (nodemap_parse(&m, (const char *)data, size, 7077, &cause) == 0) {
		for (i = 0; i < m.n; i++) {
			if (m.ent[i].node == 0 ||
			    nodemap_find(&m, m.ent[i].node) != &m.ent[i])
				abort();
			node_addr_str(&m.ent[i].addr, buf, sizeof buf);
		}
		nodemap_free(&m);
	}
	free(cause);
	cause = NULL;
	/* the same bytes as one address */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (node_addr_parse(s, 0, &a, &cause) == 0)
		node_addr_str(&a, buf, sizeof buf);
	free(cause);
	free(s);
	return 0;
}
