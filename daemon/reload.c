/* reload.c: SIGHUP and omctl reload: the config and TLS files again, what changed applied or named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/config.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/tls.h"
#include "omm/xmalloc.h"

#include "cluster.h"
#include "control.h"
#include "host.h"
#include "peer.h"
#include "reload.h"

#define MAX_CHANGES	64
#define MAX_DROPPED	64

static struct omm_config	*conf;
static const char		*conf_path;
static int			 conf_must_exist;
static int			 socket_fixed;
static int			 verbose_opts;

/* The TLS files: applied together, by cluster_reload_tls. */
static const char *tls_keys[] = { "ca", "cert", "key", "crl" };

void
reload_init(struct omm_config *running, const char *path, int must_exist,
    int sock_fixed, int vopts)
{
	conf = running;
	conf_path = path;
	conf_must_exist = must_exist;
	socket_fixed = sock_fixed;
	verbose_opts = vopts;
}

void
reload_apply_limits(const struct omm_config *c)
{
	control_set_limits(c->control_per_user, c->control_max,
	    c->control_idle_s);
	peer_set_limits(c->handshake_ms, c->handshake_per_source,
	    c->handshake_max);
	host_set_limits(c->handshake_ms, c->handshake_per_source,
	    c->handshake_max);
	log_setrepeat(c->log_repeat_s);
}

static void
add(struct msg_reloaded *r, uint8_t status, const char *what,
    const char *detail)
{
	struct msg_reload_item	*it;

	if (r->n >= PROTO_RELOAD_MAX)
		return;
	r->items = xreallocarray(r->items, r->n + 1, sizeof *r->items);
	it = &r->items[r->n++];
	it->status = status;
	it->what = xstrdup(what);
	it->detail = xstrdup(detail != NULL ? detail : "");
}

static int
is_tls_key(const char *key)
{
	size_t	i;

	for (i = 0; i < sizeof tls_keys / sizeof tls_keys[0]; i++) {
		if (strcmp(key, tls_keys[i]) == 0)
			return 1;
	}
	return 0;
}

static void
swap_str(char **a, char **b)
{
	char	*t = *a;

	*a = *b;
	*b = t;
}

/* The TLS files, at the new config's paths; on failure the old ones stay. */
static void
reload_tls(struct omm_config *n, const struct config_change *ch, size_t nch,
    struct msg_reloaded *r)
{
	struct peer_refused	 dropped[MAX_DROPPED];
	char			*cause = NULL, *detail;
	size_t			 i, nd = 0;
	int			 rc;

	swap_str(&conf->ca, &n->ca);
	swap_str(&conf->cert, &n->cert);
	swap_str(&conf->key, &n->key);
	swap_str(&conf->crl, &n->crl);
	rc = cluster_reload_tls(dropped, MAX_DROPPED, &nd, &cause);
	if (rc != 0) {
		swap_str(&conf->ca, &n->ca);
		swap_str(&conf->cert, &n->cert);
		swap_str(&conf->key, &n->key);
		swap_str(&conf->crl, &n->crl);
	}
	for (i = 0; i < nch; i++) {
		if (is_tls_key(ch[i].key))
			add(r, rc == 0 ? PROTO_RELOAD_APPLIED :
			    PROTO_RELOAD_FAILED, ch[i].key, rc == 0 ? "" :
			    "the TLS files could not be used");
	}
	if (!conf->fabric) {
		add(r, PROTO_RELOAD_APPLIED, "tls", "this node runs alone: "
		    "no TLS files in use");
		return;
	}
	if (rc != 0) {
		add(r, PROTO_RELOAD_FAILED, "tls", cause);
		free(cause);
		return;
	}
	xasprintf(&detail, "%s, %s, %s and %s read again: new links, "
	    "migrations and job supervisors use them", conf->ca, conf->crl,
	    conf->cert, conf->key);
	add(r, PROTO_RELOAD_APPLIED, "tls", detail);
	free(detail);
	for (i = 0; i < nd && i < MAX_DROPPED; i++) {
		xasprintf(&detail, "node %u: %s%s", dropped[i].node,
		    tls_reason_string(dropped[i].reason), dropped[i].was_up ?
		    ": its links closed" : "");
		add(r, PROTO_RELOAD_DROPPED, dropped[i].name[0] != '\0' ?
		    dropped[i].name : "node", detail);
		free(detail);
	}
}

/* Copy what a running ommd takes of n into conf (not the TLS paths). */
static void
take_live(struct omm_config *n)
{
	conf->verbose = n->verbose;
	conf->handshake_ms = n->handshake_ms;
	conf->handshake_per_source = n->handshake_per_source;
	conf->handshake_max = n->handshake_max;
	conf->control_per_user = n->control_per_user;
	conf->control_max = n->control_max;
	conf->control_idle_s = n->control_idle_s;
	conf->log_repeat_s = n->log_repeat_s;
}

static void
log_report(const struct msg_reloaded *r)
{
	uint32_t	i, napplied = 0, nrestart = 0, nfailed = 0;

	for (i = 0; i < r->n; i++) {
		const struct msg_reload_item	*it = &r->items[i];
		const char			*sep = it->detail[0] != '\0' ?
						    ": " : "";

		switch (it->status) {
		case PROTO_RELOAD_APPLIED:
			napplied++;
			log_info("reload: %s applied%s%s", it->what, sep,
			    it->detail);
			break;
		case PROTO_RELOAD_RESTART:
			nrestart++;
			log_warnx("reload: %s changed and needs a restart",
			    it->what);
			break;
		case PROTO_RELOAD_FAILED:
			nfailed++;
			log_warnx("reload: %s not applied%s%s", it->what, sep,
			    it->detail);
			break;
		case PROTO_RELOAD_DROPPED:
			log_warnx("reload: %s refused from now on (%s)",
			    it->what, it->detail);
			break;
		}
	}
	log_info("reloaded %s: %u applied, %u need a restart, %u failed",
	    conf_path, napplied, nrestart, nfailed);
}

int
reload_run(struct msg_reloaded *r, char **cause)
{
	struct config_change	 ch[MAX_CHANGES];
	struct omm_config	 n;
	char			*why = NULL, *detail;
	size_t			 i, nch;

	memset(r, 0, sizeof *r);
	config_defaults(&n);
	if (config_load(&n, conf_path, conf_must_exist, &why) != 0) {
		cause_set(cause, "%s; the running config stays", why);
		log_warnx("reload: %s", *cause);
		free(why);
		config_free(&n);
		return -1;
	}
	/* ommd -s: the command line fixed the socket */
	if (socket_fixed) {
		free(n.socket_path);
		n.socket_path = xstrdup(conf->socket_path);
	}
	nch = config_diff(conf, &n, ch, MAX_CHANGES);
	if (nch > MAX_CHANGES)
		nch = MAX_CHANGES;
	for (i = 0; i < nch; i++) {
		if (is_tls_key(ch[i].key))
			continue;	/* reload_tls says */
		if (ch[i].live)
			add(r, PROTO_RELOAD_APPLIED, ch[i].key, "");
		else
			add(r, PROTO_RELOAD_RESTART, ch[i].key,
			    "needs a restart");
	}
	take_live(&n);
	log_setverbose(conf->verbose + verbose_opts);
	reload_apply_limits(conf);
	reload_tls(&n, ch, nch, r);
	if (nch == 0) {
		xasprintf(&detail, "no setting of %s changed", conf_path);
		add(r, PROTO_RELOAD_APPLIED, "config", detail);
		free(detail);
	}
	config_free(&n);
	log_report(r);
	return 0;
}
