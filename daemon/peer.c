/* peer.c: links to the other nodes: TCP, mutual TLS 1.3, wire frames, HELLO checks, redial. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "omm/buf.h"
#include "omm/config.h"
#include "omm/connlimit.h"
#include "omm/log.h"
#include "omm/nodemap.h"
#include "omm/tls.h"
#include "omm/wire.h"
#include "omm/xmalloc.h"

#include "cluster.h"
#include "peer.h"

#define LINK_MAX_OUTPUT		(8u << 20) /* a peer that does not read goes */
#define LINK_CLOSE_MS		2000	/* time to send a last BYE */
#define BACKOFF_MIN_MS		250
#define BACKOFF_MAX_MS		8000
/*
 * A node dials a node of a smaller id only this much later: that node
 * dials first when it knows us too, so that one link results, not two.
 */
#define DEFER_MS		1000

enum link_state {
	LINK_TCP,	/* our dial: TCP connect */
	LINK_TLS,	/* TLS handshake */
	LINK_HELLO,	/* TLS done; acceptor awaits HELLO, dialler HELLO_ACK */
	LINK_UP,	/* a first valid message has arrived */
	LINK_CLOSING,	/* sending a last frame, reading nothing */
};

struct peer;

struct link {
	uint64_t		 serial;
	struct bufferevent	*bev;		/* NULL while LINK_TCP */
	int			 fd;		/* while LINK_TCP, else -1 */
	struct event		*cev;		/* connect done, while LINK_TCP */
	struct peer		*peer;		/* NULL: accepted, not identified */
	int			 dialed;
	int			 pending;	/* holds a slot of limits */
	struct cl_key		 key;		/* its source, for limits */
	enum link_state		 state;
	struct node_addr	 remote;	/* the other end of the socket */
	uint64_t		 incarnation;	/* the peer's, from HELLO(_ACK) */
	int64_t			 up_at;
	struct event		*timer;		/* handshake or closing deadline */
	TAILQ_ENTRY(link)	 entry;
};

struct peer {
	uint32_t		 node;
	char			 name[LV_NAME_MAX];
	struct node_addr	 addr;		/* to dial; NONE: not known */
	uint64_t		 incarnation;	/* last known, 0 none */
	struct link		*up;		/* the link in use */
	struct link		*dialing;	/* our dial in progress */
	struct event		*redial;
	uint32_t		 backoff_ms;
	int			 no_redial;	/* said BYE: it dials us when back */
	uint32_t		 established;
	uint32_t		 lost;
	uint32_t		 failed;
	uint32_t		 refused;
	uint64_t		 frames_in;
	uint64_t		 frames_out;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	char			*error;
	X509			*cert;		/* of its last verified link */
	enum tls_reason		 refused_by_ctx; /* TLS_OK, or since a reload */
	TAILQ_ENTRY(peer)	 entry;
};

static struct event_base	*base;
static SSL_CTX			*ctx;
static struct peer_self		 self;
static char			 self_name[LV_NAME_MAX];
static struct evconnlistener	*listener;
static TAILQ_HEAD(, link)	 links = TAILQ_HEAD_INITIALIZER(links);
static TAILQ_HEAD(, peer)	 peers = TAILQ_HEAD_INITIALIZER(peers);
static uint64_t			 next_serial = 1;
/*
 * Accepted connections not through TLS and HELLO yet, per source address
 * and in all, and how long they may take (ommd.conf handshake_*).
 */
static struct connlimit		*limits;
static uint32_t			 handshake_ms = OMM_HANDSHAKE_MS;
static int			 left;		/* omctl leave */
static int			 stopping;
static struct wire_msg		 rx;		/* one frame decoded at a time */
static uint64_t			 cnt[PROTO_ST_NNUM];

static void	link_read(struct bufferevent *, void *);
static void	link_write(struct bufferevent *, void *);
static void	link_event(struct bufferevent *, short, void *);
static void	link_timeout(evutil_socket_t, short, void *);
static void	peer_dial(struct peer *);

static struct peer *
peer_find(uint32_t node)
{
	struct peer	*p;

	TAILQ_FOREACH(p, &peers, entry) {
		if (p->node == node)
			return p;
	}
	return NULL;
}

static void
redial_fire(evutil_socket_t fd, short what, void *arg)
{
	peer_dial(arg);
}

static struct peer *
peer_get(uint32_t node)
{
	struct peer	*p;

	if ((p = peer_find(node)) != NULL)
		return p;
	p = xcalloc(1, sizeof *p);
	p->node = node;
	p->backoff_ms = BACKOFF_MIN_MS;
	if ((p->redial = evtimer_new(base, redial_fire, p)) == NULL)
		fatalx("peer: cannot make a timer");
	TAILQ_INSERT_TAIL(&peers, p, entry);
	return p;
}

static const char *
link_who(const struct link *l, char *buf, size_t n)
{
	char	addr[NODE_ADDR_STRLEN];

	node_addr_str(&l->remote, addr, sizeof addr);
	if (l->peer != NULL && l->peer->name[0] != '\0')
		snprintf(buf, n, "node %u (%s) at %s", l->peer->node,
		    l->peer->name, addr);
	else if (l->peer != NULL)
		snprintf(buf, n, "node %u at %s", l->peer->node, addr);
	else
		snprintf(buf, n, "%s", addr);
	return buf;
}

static void
peer_set_error(struct peer *p, const char *why)
{
	free(p->error);
	p->error = xstrdup(why);
}

/* Dial again after the backoff, which grows, with a quarter of jitter. */
static void
peer_schedule(struct peer *p)
{
	struct timeval	tv;
	uint32_t	ms = p->backoff_ms;

	if (stopping || left || p->no_redial || p->up != NULL ||
	    p->dialing != NULL || p->addr.family == NODE_AF_NONE ||
	    p->refused_by_ctx != TLS_OK)
		return;
	ms = ms - ms / 4 + (uint32_t)(arc4random_uniform(ms / 2 + 1));
	if (p->node < self.node)
		ms += DEFER_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->redial, &tv);
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    p->backoff_ms * 2;
}

/* Dial now, or later towards a smaller id (DEFER_MS). */
static void
peer_kick(struct peer *p)
{
	struct timeval	tv;
	uint32_t	ms;

	if (p->node > self.node) {
		peer_dial(p);
		return;
	}
	if (stopping || left || p->up != NULL || p->dialing != NULL ||
	    evtimer_pending(p->redial, NULL) ||
	    p->addr.family == NODE_AF_NONE)
		return;
	ms = DEFER_MS + arc4random_uniform(DEFER_MS / 2);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->redial, &tv);
}

static void
link_free(struct link *l)
{
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->cev != NULL)
		event_free(l->cev);
	if (l->fd != -1)
		close(l->fd);
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	free(l);
}

static void
link_free_later(evutil_socket_t fd, short what, void *arg)
{
	link_free(arg);
}

/*
 * Take the link off its peer. lost: an up link broke (counted, and the
 * peer is dialled again); a dial that failed is dialled again too.
 */
static void
link_detach(struct link *l, int lost, const char *why)
{
	struct peer	*p = l->peer;

	if (l->pending) {
		l->pending = 0;
		connlimit_put(limits, &l->key);
	}
	if (l->peer == NULL)
		return;
	if (p->up == l) {
		p->up = NULL;
		if (lost) {
			p->lost++;
			cnt[ST_CNT_LINKS_LOST]++;
			if (why != NULL)
				peer_set_error(p, why);
			peer_schedule(p);
		}
	} else if (p->dialing == l) {
		p->dialing = NULL;
		if (p->up == NULL) {
			p->failed++;
			cnt[ST_CNT_DIALS_FAILED]++;
			if (why != NULL)
				peer_set_error(p, why);
			peer_schedule(p);
		}
	}
	l->peer = NULL;
}

/* Close now, from anywhere (its callbacks included): freed from the loop. */
static void
link_close(struct link *l, int lost, const char *why)
{
	struct timeval	now = { 0, 0 };

	link_detach(l, lost, why);
	if (l->bev != NULL) {
		bufferevent_setcb(l->bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(l->bev, EV_READ | EV_WRITE);
	}
	if (l->cev != NULL)
		event_del(l->cev);
	if (l->timer != NULL)
		evtimer_del(l->timer);
	TAILQ_REMOVE(&links, l, entry);
	if (event_base_once(base, -1, EV_TIMEOUT, link_free_later, l,
	    &now) == -1)
		fatalx("%s: event_base_once", __func__);
}

static void
link_send(struct link *l, const struct buf *b)
{
	struct peer	*p = l->peer;

	if (bufferevent_write(l->bev, b->data, b->len) == -1) {
		log_warnx("peer: cannot queue %zu bytes", b->len);
		return;
	}
	cnt[ST_CNT_FRAMES_OUT]++;
	cnt[ST_CNT_BYTES_OUT] += b->len;
	if (p != NULL) {
		p->frames_out++;
		p->bytes_out += b->len;
	}
}

/*
 * Send a BYE and close once it is out (or after LINK_CLOSE_MS). The peer
 * is detached at once: for us the link is gone.
 */
static void
link_bye(struct link *l, uint16_t reason, const char *text, int lost)
{
	struct wire_bye	 bye;
	struct buf	 b;
	struct timeval	 tv = { LINK_CLOSE_MS / 1000, 0 };

	memset(&bye, 0, sizeof bye);
	bye.reason = reason;
	snprintf(bye.text, sizeof bye.text, "%s", text != NULL ? text : "");
	buf_init(&b);
	wire_encode_bye(&b, &bye);
	link_send(l, &b);
	buf_free(&b);
	link_detach(l, lost, text);
	l->state = LINK_CLOSING;
	bufferevent_disable(l->bev, EV_READ);
	bufferevent_setcb(l->bev, NULL, link_write, link_event, l);
	evtimer_del(l->timer);
	evtimer_add(l->timer, &tv);
	if (evbuffer_get_length(bufferevent_get_output(l->bev)) == 0)
		link_close(l, 0, NULL);
}

/* The TLS bufferevent of a link: from now on it owns the socket. */
static void
link_set_bev(struct link *l, struct bufferevent *bev)
{
	l->bev = bev;
	l->fd = -1;
	l->state = LINK_TLS;
	/* a peer killed mid-stream sends no close_notify: that is EOF */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, link_read, NULL, link_event, l);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* A link: accepted (bev given) or being dialled (bev NULL, fd connecting). */
static struct link *
link_new(struct bufferevent *bev, int fd, int dialed,
    const struct node_addr *remote)
{
	struct link	*l;
	struct timeval	 tv = { handshake_ms / 1000,
			    (handshake_ms % 1000) * 1000 };

	l = xcalloc(1, sizeof *l);
	l->serial = next_serial++;
	l->dialed = dialed;
	l->state = LINK_TCP;
	l->fd = fd;
	l->remote = *remote;
	l->up_at = -1;
	if ((l->timer = evtimer_new(base, link_timeout, l)) == NULL ||
	    evtimer_add(l->timer, &tv) == -1)
		fatalx("peer: cannot make a timer");
	if (bev != NULL)
		link_set_bev(l, bev);
	TAILQ_INSERT_TAIL(&links, l, entry);
	return l;
}

static void
send_hello(struct link *l, uint16_t type)
{
	struct wire_hello	 h;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	struct buf		 b;

	memset(&h, 0, sizeof h);
	h.node = self.node;
	h.incarnation = self.incarnation;
	snprintf(h.name, sizeof h.name, "%s", self.name);
	snprintf(h.version, sizeof h.version, "%s", OMM_VERSION);
	h.flags = 0;
	h.addr = self.listen;
	/* listening on every address: say the one this link runs over */
	if (node_addr_is_any(&h.addr) &&
	    getsockname(bufferevent_getfd(l->bev), (struct sockaddr *)&ss,
	    &len) == 0 && node_addr_from_sockaddr((struct sockaddr *)&ss, len,
	    &h.addr) == 0)
		h.addr.port = self.listen.port;
	buf_init(&b);
	wire_encode_hello(&b, type, &h);
	link_send(l, &b);
	buf_free(&b);
}

/* Refuse a verified TLS peer for what it says it is: logged, BYE, closed. */
static void
link_refuse(struct link *l, const char *why, uint32_t claimed)
{
	struct peer	*p = l->peer;
	char		 who[200];

	log_warnx("refused %s link %s %s: %s", l->dialed ? "dialled" :
	    "accepted", l->dialed ? "to" : "from", link_who(l, who,
	    sizeof who), why);
	cnt[ST_CNT_LINKS_REFUSED]++;
	/* counted against the node it claims to be, which may see why */
	if (p == NULL && claimed != 0 && claimed != self.node)
		p = peer_get(claimed);
	if (p != NULL) {
		p->refused++;
		peer_set_error(p, why);
	}
	link_bye(l, WIRE_BYE_REFUSED, why, 0);
}

/*
 * Of two links to one peer, which stays: the one to the newer incarnation
 * (the other ran to a node that has since restarted), else the one dialled
 * by the smaller node id, else the newer. Both ends choose the same link.
 */
static int
link_wins(const struct link *a, const struct link *b)
{
	uint32_t	da, db;

	if (a->incarnation != b->incarnation)
		return a->incarnation > b->incarnation;
	da = a->dialed ? self.node : a->peer->node;
	db = b->dialed ? self.node : b->peer->node;
	if (da != db)
		return da < db;
	return a->serial > b->serial;
}

/* The link proved who is at the other end: make it the peer's link. */
static void
link_identified(struct link *l, struct peer *p, const struct wire_hello *h)
{
	struct link	*old = p->up;
	char		 who[200];

	l->peer = p;
	l->incarnation = h->incarnation;
	if (p->dialing == l)
		p->dialing = NULL;
	if (old != NULL) {
		if (!link_wins(l, old)) {
			/* the other end drops this one too */
			log_debug("peer: %s: keeping link %llu, dropping "
			    "%llu", link_who(l, who, sizeof who),
			    (unsigned long long)old->serial,
			    (unsigned long long)l->serial);
			l->peer = NULL;
			link_close(l, 0, NULL);
			return;
		}
		log_debug("peer: %s: link %llu replaces %llu",
		    link_who(l, who, sizeof who),
		    (unsigned long long)l->serial,
		    (unsigned long long)old->serial);
		/* a restarted peer's old link is lost; a duplicate is not */
		link_close(old, old->incarnation != l->incarnation,
		    "replaced after the node restarted");
	}
	if (!l->dialed)
		send_hello(l, WIRE_HELLO_ACK);
	/* kept to check it again when the CRL is reloaded */
	X509_free(p->cert);
	p->cert = SSL_get1_peer_certificate(bufferevent_openssl_get_ssl(
	    l->bev));
	p->refused_by_ctx = TLS_OK;
	p->up = l;
	p->incarnation = h->incarnation;
	snprintf(p->name, sizeof p->name, "%s", h->name);
	p->established++;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->no_redial = 0;
	evtimer_del(p->redial);
	cnt[ST_CNT_LINKS_UP]++;
	l->state = LINK_UP;
	l->up_at = cluster_now();
	evtimer_del(l->timer);
	log_info("link %s %s up", l->dialed ? "to" : "from",
	    link_who(l, who, sizeof who));
	cluster_on_hello(p->node, h->incarnation);
}

/* HELLO (acceptor) or HELLO_ACK (dialler): is it the node it claims? */
static void
link_hello(struct link *l, const struct wire_hello *h)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(l->bev);
	struct peer	*p;
	struct node_addr a;
	uint32_t	 certid;
	char		*why = NULL, addr[NODE_ADDR_STRLEN];

	if (h->node == self.node) {
		cause_set(&why, "it says it is node %u, which is this node",
		    h->node);
		goto refuse;
	}
	if (tls_check_peer(ssl, h->name, &why) != 0)
		goto refuse;
	if ((certid = tls_peer_id(ssl)) != 0 && certid != h->node) {
		cause_set(&why, "%s says it is node %u, its certificate is "
		    "for node %u", h->name, h->node, certid);
		goto refuse;
	}
	if (l->dialed && l->peer != NULL && l->peer->node != h->node) {
		cause_set(&why, "expected node %u at %s, found node %u (%s)",
		    l->peer->node, node_addr_str(&l->remote, addr,
		    sizeof addr), h->node, h->name);
		goto refuse;
	}
	if (l->dialed)
		p = l->peer;
	else {
		l->pending = 0;
		connlimit_put(limits, &l->key);
		p = peer_get(h->node);
		/*
		 * Where it listens, for dialling it later: its HELLO says,
		 * or (listening everywhere) the address it came from.
		 */
		a = h->addr;
		if (a.family == NODE_AF_NONE || node_addr_is_any(&a)) {
			a = l->remote;
			a.port = h->addr.port;
		}
		if (a.port != 0)
			p->addr = a;
	}
	link_identified(l, p, h);
	return;

refuse:
	link_refuse(l, why, h->node);
	free(why);
}

/* A frame that makes no sense here: logged, BYE protocol, closed. */
static void
link_protocol(struct link *l, const char *why)
{
	char	who[200];

	log_warnx("closing link %s %s: %s", l->dialed ? "to" : "from",
	    link_who(l, who, sizeof who), why);
	cnt[ST_CNT_FRAMES_BAD]++;
	if (l->peer != NULL)
		peer_set_error(l->peer, why);
	link_bye(l, WIRE_BYE_PROTOCOL, why, l->state == LINK_UP);
}

/* One decoded frame; returns -1 once the link is closing. */
static int
link_frame(struct link *l, const struct wire_msg *m)
{
	char	who[200], why[256];

	switch (l->state) {
	case LINK_HELLO:
		if (!l->dialed && m->type == WIRE_HELLO) {
			link_hello(l, &m->hello);
			break;
		}
		if (l->dialed && m->type == WIRE_HELLO_ACK) {
			link_hello(l, &m->hello);
			break;
		}
		if (l->dialed && m->type == WIRE_BYE) {
			snprintf(why, sizeof why, "refused by the peer (%s): %s",
			    wire_bye_name(m->bye.reason), m->bye.text);
			log_warnx("link to %s: %s", link_who(l, who,
			    sizeof who), why);
			if (l->peer != NULL) {
				l->peer->refused++;
				peer_set_error(l->peer, why);
			}
			cnt[ST_CNT_LINKS_REFUSED]++;
			link_close(l, 0, why);
			return -1;
		}
		snprintf(why, sizeof why, "expected %s, got %s",
		    l->dialed ? "HELLO_ACK" : "HELLO", wire_type_name(m->type));
		link_protocol(l, why);
		return -1;
	case LINK_UP:
		if (m->type == WIRE_LOADWIN) {
			cluster_on_loadwin(l->peer->node, &m->loadwin);
			break;
		}
		if (m->type == WIRE_BYE) {
			log_info("%s said goodbye (%s)%s%s", link_who(l, who,
			    sizeof who), wire_bye_name(m->bye.reason),
			    m->bye.text[0] != '\0' ? ": " : "", m->bye.text);
			l->peer->no_redial = 1;
			cluster_on_bye(l->peer->node, m->bye.reason);
			link_close(l, 0, NULL);
			return -1;
		}
		snprintf(why, sizeof why, "unexpected %s on an up link",
		    wire_type_name(m->type));
		link_protocol(l, why);
		return -1;
	default:
		return -1;
	}
	return l->state == LINK_CLOSING ? -1 : 0;
}

static void
link_read(struct bufferevent *bev, void *arg)
{
	struct link	*l = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct wire_hdr	 h;
	uint8_t		*p;
	size_t		 n, want, flen;
	char		*why = NULL;
	int		 rv;

	while (l->state == LINK_HELLO || l->state == LINK_UP) {
		if ((n = evbuffer_get_length(in)) == 0)
			return;
		want = n < WIRE_HDR_LEN ? n : WIRE_HDR_LEN;
		p = evbuffer_pullup(in, want);
		rv = wire_frame_peek(p, want, &h, &flen, &why);
		if (rv == 0 && want == WIRE_HDR_LEN) {
			if (n < WIRE_HDR_LEN + (size_t)h.len)
				return;		/* the payload is on its way */
			want = WIRE_HDR_LEN + h.len;
			p = evbuffer_pullup(in, want);
			rv = wire_frame_peek(p, want, &h, &flen, &why);
		}
		if (rv == 0)
			return;
		if (rv == 1 && wire_decode(&h, p + WIRE_HDR_LEN, &rx,
		    &why) != 0)
			rv = -1;
		if (rv == -1) {
			link_protocol(l, why);
			free(why);
			return;
		}
		cnt[ST_CNT_FRAMES_IN]++;
		cnt[ST_CNT_BYTES_IN] += flen;
		if (l->peer != NULL) {
			l->peer->frames_in++;
			l->peer->bytes_in += flen;
		}
		evbuffer_drain(in, flen);
		if (link_frame(l, &rx) != 0)
			return;
	}
	/* closing: whatever else comes is not read */
	if (l->state == LINK_CLOSING)
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void
link_write(struct bufferevent *bev, void *arg)
{
	struct link	*l = arg;

	if (l->state == LINK_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		link_close(l, 0, NULL);
}

/*
 * Why a link ended, in words: TLS's reason, the socket's, or EOF. libevent
 * queues the OpenSSL errors of the link; those of library 0 are system
 * errors it wrapped, and the socket's own error says more about them.
 */
static char *
link_cause(struct link *l, short what)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(l->bev);
	unsigned long	 e;
	socklen_t	 len = sizeof(int);
	char		*cause = NULL, *tls = NULL, *s, buf[256];
	int		 err = EVUTIL_SOCKET_ERROR(), soerr = 0, handshake;
	enum tls_reason	 r;

	/* The dialler learns of a refusal on its first read (TLS 1.3). */
	handshake = l->state == LINK_TLS ||
	    (l->dialed && l->state == LINK_HELLO);
	r = ssl != NULL ? tls_reason(ssl) : TLS_OTHER;
	while ((e = bufferevent_get_openssl_error(l->bev)) != 0) {
		if (ERR_GET_LIB(e) == 0)
			continue;
		/* the peer died or closed without close_notify: plain EOF */
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			what |= BEV_EVENT_EOF;
			continue;
		}
		ERR_error_string_n(e, buf, sizeof buf);
		if (tls == NULL)
			tls = xstrdup(buf);
		else {
			xasprintf(&s, "%s; %s", tls, buf);
			free(tls);
			tls = s;
		}
	}
	if (getsockopt(bufferevent_getfd(l->bev), SOL_SOCKET, SO_ERROR,
	    &soerr, &len) == -1)
		soerr = 0;
	if (handshake && tls != NULL && r == TLS_OTHER)
		xasprintf(&cause, "%s (%s)", tls_reason_string(TLS_PROTOCOL),
		    tls);
	else if (handshake && (tls != NULL || (r != TLS_OTHER &&
	    r != TLS_OK))) {
		tls_fail_cause(ssl, &cause);
		if (tls != NULL) {
			xasprintf(&s, "%s (%s)", cause, tls);
			free(cause);
			cause = s;
		}
	} else if (tls != NULL)
		xasprintf(&cause, "TLS: %s", tls);
	else if (soerr != 0)
		cause = xstrdup(strerror(soerr));
	else if (what & BEV_EVENT_EOF)
		cause = xstrdup(handshake ? "connection closed during the "
		    "handshake" : "connection closed");
	else if (err != 0)
		cause = xstrdup(evutil_socket_error_to_string(err));
	else
		cause = xstrdup("connection failed");
	free(tls);
	ERR_clear_error();
	return cause;
}

/*
 * Our dial failed: logged, and dialled again later. A dead node is
 * dialled every few seconds: the same failure is said once.
 */
static void
dial_failed(struct link *l, const char *why)
{
	char	who[200];

	link_who(l, who, sizeof who);
	if (l->peer != NULL && l->peer->error != NULL &&
	    strcmp(l->peer->error, why) == 0)
		log_debug("dial %s failed: %s", who, why);
	else
		log_warnx("dial %s failed: %s", who, why);
	link_close(l, 0, why);
}

static void
link_event(struct bufferevent *bev, short what, void *arg)
{
	struct link	*l = arg;
	char		*why, who[200], src[64];
	int		 up = l->state == LINK_UP;

	if (what & BEV_EVENT_CONNECTED) {
		/* TLS done; the acceptor has verified the dialler too */
		if (l->state == LINK_TLS) {
			l->state = LINK_HELLO;
			if (l->dialed)
				send_hello(l, WIRE_HELLO);
		}
		return;
	}
	if (l->state == LINK_CLOSING) {
		link_close(l, 0, NULL);
		return;
	}
	why = link_cause(l, what);
	link_who(l, who, sizeof who);
	if (up)
		log_warnx("link %s %s lost: %s", l->dialed ? "to" : "from",
		    who, why);
	else if (l->dialed) {
		dial_failed(l, why);
		free(why);
		return;
	} else {
		/* anyone can cause this line: rate-limited */
		log_warnx_rl(cl_key_str(&l->key, src, sizeof src),
		    "refused connection from %s: %s", who, why);
		cnt[ST_CNT_LINKS_REFUSED]++;
	}
	link_close(l, up, why);
	free(why);
}

static void
link_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct link	*l = arg;
	char		 who[200], src[64];

	if (l->state == LINK_CLOSING) {
		link_close(l, 0, NULL);
		return;
	}
	if (l->dialed) {
		dial_failed(l, l->state == LINK_TCP ? "TCP connect timed out" :
		    l->state == LINK_TLS ? "TLS handshake timed out" :
		    "no HELLO_ACK in time");
		return;
	}
	log_warnx_rl(cl_key_str(&l->key, src, sizeof src),
	    "connection from %s: no %s within %u ms", link_who(l, who,
	    sizeof who), l->state == LINK_TLS ? "TLS handshake" : "HELLO",
	    handshake_ms);
	cnt[ST_CNT_LINKS_REFUSED]++;
	link_close(l, 0, "handshake timed out");
}

/* Our TCP connect finished: on to TLS, or a failure. */
static void
link_connected(evutil_socket_t fd, short what, void *arg)
{
	struct link		*l = arg;
	struct bufferevent	*bev;
	socklen_t		 len = sizeof(int);
	int			 err = 0;
	SSL			*ssl;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		dial_failed(l, strerror(err));
		return;
	}
	event_free(l->cev);
	l->cev = NULL;
	if ((ssl = SSL_new(ctx)) == NULL) {
		tls_log_errors("SSL_new");
		link_close(l, 0, "cannot make a TLS session");
		return;
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		link_close(l, 0, "cannot make a TLS bufferevent");
		return;
	}
	link_set_bev(l, bev);
}

static void
peer_dial(struct peer *p)
{
	struct sockaddr_storage	 ss;
	struct link		*l;
	socklen_t		 len;
	int			 fd;

	if (stopping || left || p->up != NULL || p->dialing != NULL ||
	    p->refused_by_ctx != TLS_OK ||
	    node_addr_to_sockaddr(&p->addr, &ss, &len) != 0)
		return;
	evtimer_del(p->redial);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("peer: socket");
		peer_schedule(p);
		return;
	}
	l = link_new(NULL, fd, 1, &p->addr);
	l->peer = p;
	p->dialing = l;
	cnt[ST_CNT_LINKS_DIALED]++;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		dial_failed(l, strerror(errno));
		return;
	}
	if ((l->cev = event_new(base, fd, EV_WRITE, link_connected, l)) ==
	    NULL || event_add(l->cev, NULL) == -1)
		fatalx("peer: cannot wait for a connection");
}

static void
peer_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;
	struct node_addr	 remote;
	struct cl_key		 key;
	struct link		*l;
	enum cl_verdict		 v;
	char			 addr[NODE_ADDR_STRLEN], src[64];
	SSL			*ssl;

	if (node_addr_from_sockaddr(sa, (socklen_t)salen, &remote) != 0)
		memset(&remote, 0, sizeof remote);
	node_addr_str(&remote, addr, sizeof addr);
	if (left || stopping) {
		log_debug("peer: connection from %s while out of the cluster",
		    addr);
		evutil_closesocket(fd);
		return;
	}
	cl_key_addr(&key, sa, (socklen_t)salen);
	if ((v = connlimit_take(limits, &key)) != CL_OK) {
		if (v == CL_SOURCE_FULL)
			log_warnx_rl(cl_key_str(&key, src, sizeof src),
			    "refused connection from %s: %u "
			    "connections from %s are not through their "
			    "handshake yet (handshake_per_source)", addr,
			    connlimit_count(limits, &key),
			    cl_key_str(&key, src, sizeof src));
		else
			log_warnx_rl(cl_key_str(&key, src, sizeof src),
			    "refused connection from %s: %u "
			    "connections are not through their handshake yet "
			    "(handshake_max)", addr, connlimit_total(limits));
		cnt[ST_CNT_LINKS_REFUSED]++;
		evutil_closesocket(fd);
		return;
	}
	if ((ssl = SSL_new(ctx)) == NULL) {
		tls_log_errors("SSL_new");
		connlimit_put(limits, &key);
		evutil_closesocket(fd);
		return;
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		connlimit_put(limits, &key);
		evutil_closesocket(fd);
		log_warnx("peer: cannot make a TLS bufferevent");
		return;
	}
	cnt[ST_CNT_LINKS_ACCEPTED]++;
	l = link_new(bev, -1, 0, &remote);
	l->pending = 1;
	l->key = key;
	log_debug("peer: connection from %s", addr);
}

static void
peer_accept_error(struct evconnlistener *lis, void *arg)
{
	log_warn("peer: accept");
}

int
peer_start(struct event_base *b, SSL_CTX *c, const struct peer_self *s,
    char **cause)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			addr[NODE_ADDR_STRLEN];

	base = b;
	ctx = c;
	self = *s;
	if (limits == NULL)
		limits = connlimit_new(OMM_HANDSHAKE_PER_SOURCE,
		    OMM_HANDSHAKE_MAX);
	snprintf(self_name, sizeof self_name, "%s", s->name);
	self.name = self_name;
	node_addr_str(&s->listen, addr, sizeof addr);
	if (node_addr_to_sockaddr(&s->listen, &ss, &len) != 0)
		return cause_set(cause, "listen: bad address %s", addr);
	listener = evconnlistener_new_bind(base, peer_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    64, (struct sockaddr *)&ss, (int)len);
	if (listener == NULL)
		return cause_set(cause, "listen on %s: %s", addr,
		    strerror(errno));
	evconnlistener_set_error_cb(listener, peer_accept_error);
	log_info("node %u (%s) listening for peers on %s", s->node, s->name,
	    addr);
	return 0;
}

void
peer_learn(uint32_t node, const char *name, const struct node_addr *a,
    uint64_t incarnation)
{
	struct peer	*p;

	if (node == 0 || node == self.node || listener == NULL)
		return;
	p = peer_get(node);
	if (name != NULL && p->up == NULL)
		snprintf(p->name, sizeof p->name, "%s", name);
	if (p->up != NULL)
		return;
	if (a != NULL && a->family != NODE_AF_NONE && !node_addr_is_any(a))
		p->addr = *a;
	if (incarnation != 0 && incarnation != p->incarnation) {
		/* new (or restarted): whatever it said before is void */
		p->incarnation = incarnation;
		p->no_redial = 0;
		p->backoff_ms = BACKOFF_MIN_MS;
		evtimer_del(p->redial);
	}
	if (p->no_redial || evtimer_pending(p->redial, NULL))
		return;
	peer_kick(p);
}

int
peer_send_loadwin(uint32_t node, const struct wire_loadwin *w,
    const struct node_addr *hint)
{
	struct peer	*p = peer_find(node);
	struct buf	 b;

	if (p != NULL && p->up != NULL) {
		buf_init(&b);
		wire_encode_loadwin(&b, w);
		link_send(p->up, &b);
		buf_free(&b);
		if (evbuffer_get_length(bufferevent_get_output(p->up->bev)) >
		    LINK_MAX_OUTPUT) {
			log_warnx("closing link to node %u: it does not read "
			    "what we send", node);
			link_close(p->up, 1, "peer does not read");
		}
		return 0;
	}
	if (listener == NULL)
		return -1;
	if (p == NULL && hint != NULL && hint->family != NODE_AF_NONE &&
	    !node_addr_is_any(hint)) {
		p = peer_get(node);
		p->addr = *hint;
	}
	if (p != NULL && !p->no_redial && !evtimer_pending(p->redial, NULL))
		peer_kick(p);
	return -1;
}

void
peer_send_all(const struct wire_loadwin *w)
{
	struct peer	*p;

	TAILQ_FOREACH(p, &peers, entry) {
		if (p->up != NULL)
			(void)peer_send_loadwin(p->node, w, NULL);
	}
}

/* Close every link: up ones with a BYE of reason. */
static void
close_all(uint16_t reason, const char *text)
{
	struct link	*l, *next;

	for (l = TAILQ_FIRST(&links); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->state == LINK_UP)
			link_bye(l, reason, text, 0);
		else if (l->state != LINK_CLOSING)
			link_close(l, 0, NULL);
	}
}

void
peer_leave(void)
{
	struct peer	*p;

	left = 1;
	close_all(WIRE_BYE_LEAVE, "the node left the cluster");
	TAILQ_FOREACH(p, &peers, entry)
		evtimer_del(p->redial);
}

void
peer_join(void)
{
	struct peer	*p;

	left = 0;
	TAILQ_FOREACH(p, &peers, entry) {
		p->no_redial = 0;
		p->backoff_ms = BACKOFF_MIN_MS;
		peer_kick(p);
	}
}

void
peer_stop(uint16_t reason)
{
	struct peer	*p;

	if (stopping)
		return;
	stopping = 1;
	if (listener != NULL) {
		evconnlistener_free(listener);
		listener = NULL;
	}
	TAILQ_FOREACH(p, &peers, entry)
		evtimer_del(p->redial);
	close_all(reason, "");
}

void
peer_free_all(void)
{
	struct link	*l;
	struct peer	*p;

	if (listener != NULL) {
		evconnlistener_free(listener);
		listener = NULL;
	}
	while ((l = TAILQ_FIRST(&links)) != NULL) {
		TAILQ_REMOVE(&links, l, entry);
		link_free(l);
	}
	while ((p = TAILQ_FIRST(&peers)) != NULL) {
		TAILQ_REMOVE(&peers, p, entry);
		event_free(p->redial);
		free(p->error);
		X509_free(p->cert);
		free(p);
	}
}

void
peer_set_limits(uint32_t ms, uint32_t per_source, uint32_t max)
{
	if (limits == NULL)
		limits = connlimit_new(per_source, max);
	else
		connlimit_set(limits, per_source, max);
	handshake_ms = ms;
}

size_t
peer_set_ctx(SSL_CTX *c, struct peer_refused *out, size_t max)
{
	struct peer	*p;
	enum tls_reason	 r;
	char		 why[128];
	size_t		 n = 0;

	ctx = c;
	TAILQ_FOREACH(p, &peers, entry) {
		if (p->cert == NULL)
			continue;
		r = tls_ctx_check(c, p->cert);
		if (r == TLS_OK) {
			if (p->refused_by_ctx != TLS_OK) {
				/* accepted again (a CRL fixed): dial it */
				p->refused_by_ctx = TLS_OK;
				p->no_redial = 0;
				p->backoff_ms = BACKOFF_MIN_MS;
				peer_kick(p);
			}
			continue;
		}
		p->refused_by_ctx = r;
		evtimer_del(p->redial);
		snprintf(why, sizeof why, "%s after a reload of the TLS files",
		    tls_reason_string(r));
		if (n < max) {
			out[n].node = p->node;
			snprintf(out[n].name, sizeof out[n].name, "%s", p->name);
			out[n].reason = r;
			out[n].was_up = p->up != NULL;
		}
		n++;
		log_warnx("node %u (%s): %s%s", p->node, p->name, why,
		    p->up != NULL ? ": closing its link" : "");
		if (p->dialing != NULL)
			link_close(p->dialing, 0, why);
		if (p->up != NULL) {
			cnt[ST_CNT_LINKS_REFUSED]++;
			p->refused++;
			link_bye(p->up, WIRE_BYE_REFUSED, why, 1);
		}
		peer_set_error(p, why);
	}
	return n;
}

enum tls_reason
peer_refused_by_ctx(uint32_t node)
{
	struct peer	*p = peer_find(node);

	return p == NULL ? TLS_OK : p->refused_by_ctx;
}

int
peer_link_state(uint32_t node)
{
	struct peer	*p = peer_find(node);

	if (p == NULL)
		return PROTO_LINK_NONE;
	if (p->up != NULL)
		return PROTO_LINK_UP;
	if (p->dialing != NULL)
		return PROTO_LINK_CONNECTING;
	if (evtimer_pending(p->redial, NULL))
		return PROTO_LINK_WAIT;
	return PROTO_LINK_NONE;
}

const char *
peer_name(uint32_t node)
{
	struct peer	*p = peer_find(node);

	return p == NULL ? "" : p->name;
}

const struct node_addr *
peer_addr(uint32_t node)
{
	struct peer	*p = peer_find(node);

	return p == NULL ? NULL : &p->addr;
}

size_t
peer_links(struct msg_link **out)
{
	struct msg_link	*ls;
	struct peer	*p;
	size_t		 n = 0, i = 0;
	int64_t		 now = cluster_now();

	TAILQ_FOREACH(p, &peers, entry)
		n++;
	ls = xcalloc(n + 1, sizeof *ls);
	TAILQ_FOREACH(p, &peers, entry) {
		struct msg_link	*m = &ls[i++];

		m->node = p->node;
		snprintf(m->name, sizeof m->name, "%s", p->name);
		m->state = peer_link_state(p->node);
		m->addr = p->addr;
		m->up_ms = -1;
		if (p->up != NULL) {
			m->dialed = p->up->dialed;
			m->up_ms = now - p->up->up_at;
			m->serial = p->up->serial;
			if (m->addr.family == NODE_AF_NONE)
				m->addr = p->up->remote;
		}
		m->established = p->established;
		m->lost = p->lost;
		m->failed = p->failed;
		m->refused = p->refused;
		m->frames_in = p->frames_in;
		m->frames_out = p->frames_out;
		m->bytes_in = p->bytes_in;
		m->bytes_out = p->bytes_out;
		m->error = p->error != NULL ? xstrdup(p->error) : NULL;
	}
	*out = ls;
	return n;
}

void
peer_counters(uint64_t *num)
{
	size_t	i;

	for (i = ST_CNT_LINKS_DIALED; i <= ST_CNT_BYTES_OUT; i++)
		num[i] = cnt[i];
}
