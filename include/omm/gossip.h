/*
 * gossip.h: MOSIX's information dissemination and membership, as plain logic.
 *
 * Every node keeps a window of the freshest load vectors it knows (its own
 * always included). Every interval (randomised between interval_min and
 * interval_max) it sends the window to fanout randomly chosen peers, and
 * merges what it receives by age. Ages, not time stamps, travel: an entry
 * says how many ms ago its origin measured it, and the receiver places it
 * at now - age on its own clock, so no clocks need agree. Per node and per
 * interval the cost is one window out and, on average, fanout windows in,
 * whatever the size of the cluster.
 *
 * Membership is a table of every node heard of (static map, discovery,
 * HELLO, or entries of received windows) with the time of the freshest
 * information about it. A node not heard of for the effective dead_after
 * (see gossip_dead_after) is DOWN; a newer incarnation replaces everything
 * known of the old one; a BYE marks it DOWN at once.
 *
 * Nothing here reads a clock, draws randomness of its own or does I/O: time
 * is a parameter (ms, monotonic, the caller's clock) and randomness comes
 * from the caller's xorshift state, so that runs are reproducible and the
 * simulator (bench/gossip.c) runs the same code for 10,000 nodes.
 */
#ifndef OMM_GOSSIP_H
#define OMM_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "omm/loadvec.h"
#include "omm/wire.h"

#define GOSSIP_FANOUT_MAX	8

struct gossip_config {
	size_t		window;		/* vectors kept, own included: 2..64 */
	uint32_t	interval_min_ms;
	uint32_t	interval_max_ms;
	uint32_t	fanout;		/* peers per interval, 1..8 */
	/*
	 * Silence after which a node is DOWN, for a cluster that fits in
	 * the window. A larger one scales it, see gossip_dead_after.
	 */
	uint32_t	dead_after_ms;
	/* Percent of picks that try a DOWN node, so partitions heal. */
	uint32_t	probe_pct;
	/*
	 * 1: push-pull, a peer answers our window with its own. Twice the
	 * messages, and a much shorter tail of ages (docs/gossip.md).
	 */
	uint32_t	pull;
	size_t		max_nodes;	/* table cap; more nodes are ignored */
};

enum gossip_state {
	GOSSIP_NONE,		/* not a known node */
	GOSSIP_UNKNOWN,		/* known (map, discovery), not heard yet */
	GOSSIP_UP,
	GOSSIP_LEAVING,		/* up, but announces LV_LEAVING */
	GOSSIP_DOWN,		/* silent too long, or said BYE */
	GOSSIP_NSTATES
};

/* A vector of the window and when, on our clock, its origin measured it. */
struct gossip_entry {
	int64_t		t_ms;
	struct loadvec	lv;
};

/* One node as this node sees it (omctl nodes). */
struct gossip_peer {
	uint32_t		node;
	enum gossip_state	state;
	uint64_t		incarnation;	/* 0: no vector seen */
	uint64_t		stamp;		/* origin's stamp of the freshest */
	int64_t			age_ms;		/* of the freshest news; -1 none */
	uint16_t		bye;		/* enum wire_bye_reason, 0: none */
	int			has_lv;		/* lv is its vector in the window */
	struct loadvec		lv;
};

/* What a tick asks the caller to send. */
struct gossip_out {
	uint32_t		peers[GOSSIP_FANOUT_MAX];
	size_t			npeers;
	int64_t			next_ms;	/* call gossip_tick again then */
	struct wire_loadwin	win;		/* send to each peer */
};

struct gossip_stats {
	uint64_t	ticks;
	uint64_t	sent;		/* windows handed out for sending */
	uint64_t	replies;	/* windows sent back to a pull */
	uint64_t	received;	/* windows merged */
	uint64_t	entries;	/* entries merged */
	uint64_t	fresh;		/* entries that told something new */
	uint64_t	stale;		/* older than what we knew, or too old */
	uint64_t	self;		/* about ourselves: ignored */
	uint64_t	refused;	/* new nodes beyond max_nodes */
};

struct gossip;

void	gossip_config_defaults(struct gossip_config *);
/* NULL with cause for a self id of 0 or a configuration out of range. */
struct gossip *gossip_new(uint32_t self, const struct gossip_config *,
	    char **cause);
void	gossip_free(struct gossip *);

/* Our own vector, measured now (lv->node must be our id). */
void	gossip_set_self(struct gossip *, int64_t now, const struct loadvec *);

/*
 * Time to gossip: choose peers (none while we have no vector or are
 * LV_QUIET), fill the window to send, and say when to tick next. Returns
 * the number of peers.
 */
int	gossip_tick(struct gossip *, int64_t now, uint64_t *rng,
	    struct gossip_out *);

/*
 * Merge a window received directly from node from (0: unknown sender).
 * Returns how many entries told something new.
 */
int	gossip_receive(struct gossip *, int64_t now, uint32_t from,
	    const struct wire_lventry *, size_t n);

/*
 * A received window asked for ours back (WIRE_LOADWIN_PULL): 1 and the
 * answer in out (send it to the same peer), 0 when there is nothing to
 * answer (no pull asked, no vector of ours yet, or LV_QUIET).
 */
int	gossip_reply(struct gossip *, int64_t now, const struct wire_loadwin *in,
	    struct wire_loadwin *out);

/* A node from the static map or discovery: known, not heard yet. */
void	gossip_learn(struct gossip *, int64_t now, uint32_t node);
/*
 * Direct contact (HELLO, any frame): the node is alive now. A larger
 * incarnation (0: not known) means it restarted; a node that said BYE and
 * speaks again has rejoined.
 */
void	gossip_heard(struct gossip *, int64_t now, uint32_t node,
	    uint64_t incarnation);
/* The node said BYE: DOWN at once, its vector leaves the window. */
void	gossip_bye(struct gossip *, int64_t now, uint32_t node,
	    uint16_t reason);

enum gossip_state gossip_peer_state(const struct gossip *, int64_t now,
	    uint32_t node);
/* One node (self included); -1 if not known. */
int	gossip_peer(const struct gossip *, int64_t now, uint32_t node,
	    struct gossip_peer *);
/* Known nodes (self first, then by id), at most max; returns how many. */
size_t	gossip_nodes(const struct gossip *, int64_t now, struct gossip_peer *,
	    size_t max);
/* Known nodes, self included. */
size_t	gossip_count(const struct gossip *);

/* The window as it would be sent now (own vector first, no flags). */
void	gossip_window(const struct gossip *, int64_t now,
	    struct wire_loadwin *);
/*
 * The window's other entries in place, valid until the next call that
 * changes g; for the balancer and the simulator, which read it often.
 */
const struct gossip_entry *gossip_window_view(const struct gossip *,
	    size_t *n);

/*
 * The silence after which a node is DOWN: dead_after_ms, times the number
 * of windows the known cluster spans. With N nodes and a window of W, each
 * node's vector reaches a given node about every N/W intervals, so beyond
 * W nodes a fixed timeout would call most of the cluster dead.
 */
int64_t	gossip_dead_after(const struct gossip *);

const struct gossip_stats *gossip_stats(const struct gossip *);
const char *gossip_state_name(enum gossip_state);

/* xorshift64*: the caller's random state (0 is replaced by a constant). */
uint64_t gossip_rand(uint64_t *state);

#endif
