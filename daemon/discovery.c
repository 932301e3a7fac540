/* discovery.c: multicast announcements out and in (openMosix's omdiscd). */
#include <sys/types.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/announce.h"
#include "omm/buf.h"
#include "omm/config.h"
#include "omm/log.h"
#include "omm/nodemap.h"

#include "cluster.h"
#include "discovery.h"
#include "peer.h"

/*
 * A node announces itself every second, and a few times quickly at start
 * so that a cluster forms within a second or two.
 */
#define ANNOUNCE_EVERY_MS	1000
#define ANNOUNCE_FAST_MS	150
#define ANNOUNCE_FAST_COUNT	4

static struct event_base	*base;
static int			 sock = -1;
static struct event		*rev;
static struct event		*tev;
static struct announce		 me;
static struct sockaddr_storage	 group;
static socklen_t		 grouplen;
static int			 paused;
static unsigned			 fast_left;
static uint64_t			 n_sent, n_received, n_bad;
static int			 send_failed;	/* logged once */

static void
arm(void)
{
	struct timeval	tv;
	uint32_t	ms;

	if (fast_left > 0) {
		fast_left--;
		ms = ANNOUNCE_FAST_MS;
	} else
		ms = ANNOUNCE_EVERY_MS - ANNOUNCE_EVERY_MS / 8 +
		    arc4random_uniform(ANNOUNCE_EVERY_MS / 4);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(tev, &tv);
}

static void
announce_send(evutil_socket_t fd, short what, void *arg)
{
	struct buf	b;

	if (paused)
		return;
	buf_init(&b);
	announce_encode(&b, &me);
	if (sendto(sock, b.data, b.len, 0, (struct sockaddr *)&group,
	    grouplen) == -1) {
		if (!send_failed)
			log_warn("discovery: send to the group");
		send_failed = 1;
	} else {
		send_failed = 0;
		n_sent++;
	}
	buf_free(&b);
	arm();
}

static void
announce_recv(evutil_socket_t fd, short what, void *arg)
{
	struct sockaddr_storage	 from;
	struct announce		 an;
	struct node_addr	 src, a;
	socklen_t		 fromlen;
	uint8_t			 pkt[ANNOUNCE_MAX_LEN + 1];
	char			*why = NULL, addr[NODE_ADDR_STRLEN];
	ssize_t			 n;

	for (;;) {
		fromlen = sizeof from;
		n = recvfrom(sock, pkt, sizeof pkt, 0, (struct sockaddr *)&from,
		    &fromlen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("discovery: receive");
			return;
		}
		if (node_addr_from_sockaddr((struct sockaddr *)&from, fromlen,
		    &src) != 0)
			continue;
		if (announce_decode(pkt, (size_t)n, &an, &why) != 0) {
			n_bad++;
			log_debug("discovery: from %s: %s", node_addr_str(&src,
			    addr, sizeof addr), why);
			free(why);
			why = NULL;
			continue;
		}
		if (an.node == me.node)
			continue;
		n_received++;
		if (paused)
			continue;
		/* family 0: it listens on every address; use the sender's */
		a = an.addr;
		if (a.family == NODE_AF_NONE) {
			a = src;
			a.port = an.addr.port;
		}
		log_debug("discovery: node %u (%s) at %s", an.node, an.name,
		    node_addr_str(&a, addr, sizeof addr));
		cluster_on_announce(an.node);
		peer_learn(an.node, an.name, &a, an.incarnation);
	}
}

static int
ifindex_of(const struct omm_config *conf, unsigned *idx, char **cause)
{
	*idx = 0;
	if (conf->mcast_if == NULL)
		return 0;
	if ((*idx = if_nametoindex(conf->mcast_if)) == 0)
		return cause_set(cause, "mcast_if %s: %s", conf->mcast_if,
		    strerror(errno));
	return 0;
}

/* Join the group on the interface; send there, one hop, not to ourselves. */
static int
setup_v4(const struct omm_config *conf, unsigned idx, char **cause)
{
	struct ip_mreqn		mr;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&group;
	int			ttl = 1, loop = 0;

	memset(&mr, 0, sizeof mr);
	mr.imr_multiaddr = sin->sin_addr;
	mr.imr_ifindex = (int)idx;
	if (setsockopt(sock, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof mr) == -1)
		return cause_set(cause, "join the group: %s", strerror(errno));
	if (idx != 0 && setsockopt(sock, IPPROTO_IP, IP_MULTICAST_IF, &mr,
	    sizeof mr) == -1)
		return cause_set(cause, "IP_MULTICAST_IF %s: %s",
		    conf->mcast_if, strerror(errno));
	if (setsockopt(sock, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	    sizeof ttl) == -1 ||
	    setsockopt(sock, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
	    sizeof loop) == -1)
		return cause_set(cause, "multicast options: %s",
		    strerror(errno));
	return 0;
}

static int
setup_v6(const struct omm_config *conf, unsigned idx, char **cause)
{
	struct ipv6_mreq	 mr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&group;
	int			 hops = 1, loop = 0;

	memset(&mr, 0, sizeof mr);
	mr.ipv6mr_multiaddr = sin6->sin6_addr;
	mr.ipv6mr_interface = idx;
	if (setsockopt(sock, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr,
	    sizeof mr) == -1)
		return cause_set(cause, "join the group: %s", strerror(errno));
	if (idx != 0 && setsockopt(sock, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx,
	    sizeof idx) == -1)
		return cause_set(cause, "IPV6_MULTICAST_IF %s: %s",
		    conf->mcast_if, strerror(errno));
	if (setsockopt(sock, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	    sizeof hops) == -1 ||
	    setsockopt(sock, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop,
	    sizeof loop) == -1)
		return cause_set(cause, "multicast options: %s",
		    strerror(errno));
	return 0;
}

int
discovery_start(struct event_base *b, const struct omm_config *conf,
    const struct announce *self, char **cause)
{
	char		 gname[NODE_ADDR_STRLEN], *why = NULL;
	unsigned	 idx;
	int		 one = 1, rv;

	base = b;
	me = *self;
	node_addr_str(&conf->mcast_group, gname, sizeof gname);
	if (node_addr_to_sockaddr(&conf->mcast_group, &group, &grouplen) != 0)
		return cause_set(cause, "mcast_group %s: bad address", gname);
	if (ifindex_of(conf, &idx, cause) != 0)
		return -1;
	sock = socket(group.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (sock == -1)
		return cause_set(cause, "discovery socket: %s",
		    strerror(errno));
	/* bound to the group's address: only the group's datagrams arrive */
	if (setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof one) == -1 ||
	    bind(sock, (struct sockaddr *)&group, grouplen) == -1) {
		cause_set(&why, "bind: %s", strerror(errno));
		goto fail;
	}
	if (group.ss_family == AF_INET)
		rv = setup_v4(conf, idx, &why);
	else
		rv = setup_v6(conf, idx, &why);
	if (rv != 0)
		goto fail;
	rev = event_new(base, sock, EV_READ | EV_PERSIST, announce_recv, NULL);
	tev = evtimer_new(base, announce_send, NULL);
	if (rev == NULL || tev == NULL || event_add(rev, NULL) == -1)
		fatalx("discovery: cannot set up events");
	fast_left = ANNOUNCE_FAST_COUNT;
	arm();
	log_info("discovery: announcing node %u on %s%s%s", me.node, gname,
	    conf->mcast_if != NULL ? " via " : "",
	    conf->mcast_if != NULL ? conf->mcast_if : "");
	return 0;

fail:
	cause_set(cause, "discovery on %s: %s", gname, why);
	free(why);
	close(sock);
	sock = -1;
	return -1;
}

void
discovery_pause(int p)
{
	if (sock == -1)
		return;
	paused = p;
	if (!paused) {
		fast_left = ANNOUNCE_FAST_COUNT;
		evtimer_del(tev);
		arm();
	}
}

void
discovery_stop(void)
{
	if (rev != NULL)
		event_free(rev);
	if (tev != NULL)
		event_free(tev);
	rev = tev = NULL;
	if (sock != -1)
		close(sock);
	sock = -1;
}

void
discovery_counters(uint64_t *num)
{
	num[ST_CNT_ANNOUNCE_SENT] = n_sent;
	num[ST_CNT_ANNOUNCE_RECEIVED] = n_received;
	num[ST_CNT_ANNOUNCE_BAD] = n_bad;
}
