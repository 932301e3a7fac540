/* connlimit.c: connections held per source and in all, against limits (connlimit.h). */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/connlimit.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#define NBUCKETS	256
/* key kinds, first byte of the key */
#define KIND_INET	4
#define KIND_INET6	6
#define KIND_UID	'u'

struct cl_entry {
	struct cl_key		 key;
	uint32_t		 n;
	LIST_ENTRY(cl_entry)	 entry;
};

struct connlimit {
	uint32_t		 per_source;
	uint32_t		 total;
	uint32_t		 held;
	size_t			 sources;
	LIST_HEAD(, cl_entry)	 buckets[NBUCKETS];
};

/* FNV-1a over the key's bytes. */
static size_t
key_hash(const struct cl_key *k)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < k->len && i < CL_KEY_MAX; i++) {
		h ^= k->b[i];
		h *= 16777619u;
	}
	return h % NBUCKETS;
}

static struct cl_entry *
find(const struct connlimit *cl, const struct cl_key *k)
{
	struct cl_entry	*e;

	LIST_FOREACH(e, &cl->buckets[key_hash(k)], entry) {
		if (e->key.len == k->len && memcmp(e->key.b, k->b, k->len) == 0)
			return e;
	}
	return NULL;
}

struct connlimit *
connlimit_new(uint32_t per_source, uint32_t total)
{
	struct connlimit	*cl;
	size_t			 i;

	cl = xcalloc(1, sizeof *cl);
	for (i = 0; i < NBUCKETS; i++)
		LIST_INIT(&cl->buckets[i]);
	connlimit_set(cl, per_source, total);
	return cl;
}

void
connlimit_set(struct connlimit *cl, uint32_t per_source, uint32_t total)
{
	cl->per_source = per_source;
	cl->total = total;
}

void
connlimit_free(struct connlimit *cl)
{
	struct cl_entry	*e;
	size_t		 i;

	if (cl == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++) {
		while ((e = LIST_FIRST(&cl->buckets[i])) != NULL) {
			LIST_REMOVE(e, entry);
			free(e);
		}
	}
	free(cl);
}

enum cl_verdict
connlimit_take(struct connlimit *cl, const struct cl_key *k)
{
	struct cl_entry	*e = find(cl, k);

	if (e != NULL && cl->per_source != 0 && e->n >= cl->per_source)
		return CL_SOURCE_FULL;
	if (cl->total != 0 && cl->held >= cl->total)
		return CL_ALL_FULL;
	if (e == NULL) {
		e = xcalloc(1, sizeof *e);
		e->key = *k;
		LIST_INSERT_HEAD(&cl->buckets[key_hash(k)], e, entry);
		cl->sources++;
	}
	e->n++;
	cl->held++;
	return CL_OK;
}

void
connlimit_put(struct connlimit *cl, const struct cl_key *k)
{
	struct cl_entry	*e = find(cl, k);
	char		 s[64];

	if (e == NULL || e->n == 0 || cl->held == 0)
		fatalx("connlimit: %s gives back a slot it does not hold",
		    cl_key_str(k, s, sizeof s));
	e->n--;
	cl->held--;
	if (e->n == 0) {
		LIST_REMOVE(e, entry);
		free(e);
		cl->sources--;
	}
}

uint32_t
connlimit_count(const struct connlimit *cl, const struct cl_key *k)
{
	const struct cl_entry	*e = find(cl, k);

	return e != NULL ? e->n : 0;
}

uint32_t
connlimit_total(const struct connlimit *cl)
{
	return cl->held;
}

size_t
connlimit_sources(const struct connlimit *cl)
{
	return cl->sources;
}

void
cl_key_addr(struct cl_key *k, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(k, 0, sizeof *k);
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof *sin) {
		k->b[0] = KIND_INET;
		memcpy(&k->b[1], &sin->sin_addr, 4);
		k->len = 5;
	} else if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof *sin6) {
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			k->b[0] = KIND_INET;
			memcpy(&k->b[1], &sin6->sin6_addr.s6_addr[12], 4);
			k->len = 5;
		} else {
			/* one host usually owns a whole /64 */
			k->b[0] = KIND_INET6;
			memcpy(&k->b[1], sin6->sin6_addr.s6_addr, 8);
			k->len = 9;
		}
	} else {
		/* unknown family: all such connections count as one source */
		k->b[0] = 0;
		k->len = 1;
	}
}

void
cl_key_uid(struct cl_key *k, uid_t uid)
{
	uint32_t	u = (uint32_t)uid;

	memset(k, 0, sizeof *k);
	k->b[0] = KIND_UID;
	memcpy(&k->b[1], &u, sizeof u);
	k->len = 1 + sizeof u;
}

const char *
cl_key_str(const struct cl_key *k, char *buf, size_t len)
{
	struct in6_addr	a6;
	uint32_t	u;
	char		s[INET6_ADDRSTRLEN];

	if (k->len == 5 && k->b[0] == KIND_INET &&
	    inet_ntop(AF_INET, &k->b[1], s, sizeof s) != NULL)
		snprintf(buf, len, "%s", s);
	else if (k->len == 9 && k->b[0] == KIND_INET6) {
		memset(&a6, 0, sizeof a6);
		memcpy(a6.s6_addr, &k->b[1], 8);
		if (inet_ntop(AF_INET6, &a6, s, sizeof s) == NULL)
			snprintf(s, sizeof s, "?");
		snprintf(buf, len, "%s/64", s);
	} else if (k->len == 5 && k->b[0] == KIND_UID) {
		memcpy(&u, &k->b[1], sizeof u);
		snprintf(buf, len, "uid %u", u);
	} else
		snprintf(buf, len, "an unknown source");
	return buf;
}
