/*
 * deputyd.c: the deputy, D in docs/migration.md. ommd forks it (as root)
 * per migration; it connects to the host, offers the process, streams the
 * image ommd dumps into a pipe, then takes the process's descriptors, cwd
 * and umask, drops to the owner's credentials and serves the forwarded
 * system calls on its own TLS connection until the process ends or comes
 * home. A single blocking loop: no event loop is in the path of a call.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/cpufeat.h"
#include "omm/deputy.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/miglink.h"
#include "omm/migwire.h"
#include "omm/plocks.h"
#include "omm/procfs.h"
#include "omm/wire.h"
#include "omm/xmalloc.h"

#include "depmsg.h"
#include "procinfo.h"
#include "deputyd.h"

#define PING_MS		1000	/* idle this long: PING */
#define OFFER_MS	10000	/* connect, handshake, answer to an offer */
#define READY_MS	60000	/* the host restores once the image is through */
#define PIPE_CHUNK	(256U << 10)
/*
 * A peer silent this long (it PINGs every second) is gone. Not less: on a
 * loaded node a daemon's process can go seconds without the CPU (3 s lost
 * migrated jobs at a load of 50 on 2 cores), and a dead link or node is
 * found sooner by TCP's keepalive and user timeout (5 s, miglink.c),
 * which the kernel runs whatever the load.
 */
#define SILENT_S	10

static volatile sig_atomic_t	 interrupted;

struct dep;
static int	ctl_ready(struct dep *);
static uint32_t	ctl_message(struct dep *, struct buf *, int);

struct dep {
	const struct deputyd_args	*a;
	struct miglink			*link;
	struct deputy			*d;
	uint32_t			 host;
	int				 floor;
	struct timespec			 last_send;
	struct timespec			 last_recv;
	struct depmsg			 deferred;	/* a bring after a reply */
	int				 has_deferred;
	uint8_t				*chunk;
	struct plock			*locks;		/* P's POSIX locks, ours */
	size_t				 nlocks;	/* once it is parked */
};

static void __attribute__((noreturn))
dep_exit(struct dep *p, int code)
{
	if (p->link != NULL)
		miglink_free(p->link);
	_exit(code);
}

static void
on_usr1(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
sent_now(struct dep *p)
{
	clock_gettime(CLOCK_MONOTONIC, &p->last_send);
}

static int
send_frame(struct dep *p, uint16_t type, const void *pl, size_t n,
    char **cause)
{
	sent_now(p);
	return miglink_send(p->link, type, pl, n, cause);
}

static int
send_buf(struct dep *p, struct buf *b, char **cause)
{
	int	rv;

	sent_now(p);
	rv = miglink_send_frames(p->link, b->data, b->len, cause);
	buf_reset(b);
	return rv;
}

/* Only ours: ctl and the pipes, moved to the floor and up; nothing of ommd's. */
static void
keep_only(struct dep *p, int *fds, size_t n)
{
	size_t	i;
	int	nfd, hi = p->floor;

	for (i = 0; i < n; i++) {
		if (fds[i] == -1)
			continue;
		if ((nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, hi)) == -1)
			fatal("deputy: moving fd %d to %d", fds[i], hi);
		fds[i] = nfd;
		hi = nfd + 1;
	}
	/* everything below the floor, and above ours, goes */
	syscall(SYS_close_range, 0, (unsigned)p->floor - 1, 0);
	syscall(SYS_close_range, (unsigned)hi, ~0U, 0);
}

/* Connect to node, offer the process: 0 accepted, -1 refused (cause). */
static struct miglink *
offer(struct dep *p, uint32_t node, const struct sockaddr_in *to, char **cause)
{
	const struct deputyd_args	*a = p->a;
	struct mig_offer		 o;
	struct mig_refuse		 r;
	struct mig_accept		 acc;
	struct miglink			*l;
	struct wire_hdr			 h;
	struct utsname			 u;
	struct buf			 b;
	const uint8_t			*pl;
	char				*why = NULL;
	int				 rc;

	if ((l = miglink_connect(a->ctx, to, node, OFFER_MS, &why)) == NULL) {
		cause_set(cause, "%s", why);
		free(why);
		return NULL;
	}
	if (miglink_move_fd(l, p->floor) == -1) {
		cause_set(cause, "moving the link above fd %d: %s", p->floor,
		    strerror(errno));
		miglink_free(l);
		return NULL;
	}
	memset(&o, 0, sizeof o);
	o.home_node = a->self;
	o.home_incarnation = a->incarnation;
	o.home_pid = a->orig;
	o.uid = a->uid;
	o.gid = a->gid;
	snprintf(o.comm, sizeof o.comm, "%s", a->comm);
	/* moving on: what it uses on its host now */
	o.image_bytes = a->stats->rss != 0 ? a->stats->rss : a->image_bytes;
	cpu_features_get(&o.need);
	uname(&u);
	snprintf(o.kernel, sizeof o.kernel, "%s", u.release);
	procinfo_vdso(&o.vdso_len, &o.vvar_len);
	buf_init(&b);
	migwire_encode_offer(&b, &o);
	rc = miglink_send_frames(l, b.data, b.len, &why);
	buf_free(&b);
	if (rc == -1)
		goto fail;
	for (;;) {
		rc = miglink_recv(l, OFFER_MS, &h, &pl, &why);
		if (rc == 0)
			why = xstrdup("no answer to the offer");
		if (rc <= 0)
			goto fail;
		if (h.type == WIRE_PING)
			continue;
		if (h.type == WIRE_MIG_ACCEPT) {
			if (migwire_decode_accept(pl, h.len, &acc, &why) == -1)
				goto fail;
			return l;
		}
		if (h.type == WIRE_MIG_REFUSE) {
			if (migwire_decode_refuse(pl, h.len, &r, &why) == -1)
				goto fail;
			xasprintf(&why, "refused (%s)%s%s",
			    mig_refuse_name(r.reason), r.text[0] ? ": " : "",
			    r.text);
			goto fail;
		}
		xasprintf(&why, "unexpected %s in answer to the offer",
		    wire_type_name(h.type));
		goto fail;
	}
fail:
	cause_set(cause, "%s", why);
	free(why);
	miglink_free(l);
	return NULL;
}

/* Pipe -> MIG_IMAGE frames until EOF. Returns bytes, or -1. */
static int64_t
pump_out(struct dep *p, struct miglink *l, int fd, char **cause)
{
	int64_t	total = 0;
	ssize_t	n;

	for (;;) {
		n = read(fd, p->chunk, PIPE_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return cause_set(cause, "image pipe: %s", strerror(errno));
		if (n == 0)
			return total;
		if (miglink_send(l, WIRE_MIG_IMAGE, p->chunk, (size_t)n,
		    cause) == -1)
			return -1;
		total += n;
	}
}

static int
wait_ctl(struct dep *p, struct depmsg *m, int timeout_ms, char **cause)
{
	struct pollfd	pfd = { p->a->ctl, POLLIN, 0 };
	int		rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		return cause_set(cause, "ommd did not answer");
	return depmsg_recv(p->a->ctl, m, cause);
}

/* Read the owner's groups from /proc/PID/status. */
static int
owner_groups(pid_t pid, gid_t **out, size_t *n)
{
	char	*text = NULL, *line, *cause = NULL, *s, *e;
	size_t	 len;
	long	 g;

	*out = NULL;
	*n = 0;
	if (procfs_slurp(pid, "status", &text, &len, &cause) == -1) {
		free(cause);
		return -1;
	}
	if ((line = strstr(text, "\nGroups:")) != NULL) {
		for (s = line + 8; *s != '\n' && *s != '\0'; s = e) {
			g = strtol(s, &e, 10);
			if (e == s)
				break;
			*out = xreallocarray(*out, *n + 1, sizeof **out);
			(*out)[(*n)++] = (gid_t)g;
		}
	}
	free(text);
	return 0;
}

/*
 * Become the process at home: its descriptors at the same numbers, its
 * cwd and umask, then its credentials. Runs while it is stopped.
 */
static int
take_over(struct dep *p, char **cause)
{
	struct procfs_status	 st;
	struct procfs_fdinfo	 fi;
	pid_t			 pid = p->a->orig;
	gid_t			*groups;
	size_t			 ngroups, n, i;
	int			*fds, pfd, fd, dfd;

	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return cause_set(cause, "pidfd_open %d: %s", (int)pid,
		    strerror(errno));
	/* above the numbers it fills in */
	pfd = fcntl(fd, F_DUPFD_CLOEXEC, p->floor);
	close(fd);
	if (pfd == -1)
		return cause_set(cause, "pidfd: %s", strerror(errno));
	if (procfs_fds(pid, &fds, &n, cause) == -1) {
		close(pfd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (fds[i] >= p->floor) {
			free(fds);
			close(pfd);
			return cause_set(cause, "fd %d is above the deputy's "
			    "floor %d", fds[i], p->floor);
		}
		if ((fd = (int)syscall(SYS_pidfd_getfd, pfd, fds[i], 0)) == -1) {
			cause_set(cause, "fd %d: pidfd_getfd: %s", fds[i],
			    strerror(errno));
			free(fds);
			close(pfd);
			return -1;
		}
		if (procfs_fdinfo(pid, fds[i], &fi, NULL) == -1)
			fi.flags = 0;
		if (fd != fds[i]) {
			if (dup3(fd, fds[i], (fi.flags & O_CLOEXEC) ? O_CLOEXEC :
			    0) == -1) {
				cause_set(cause, "fd %d: dup3: %s", fds[i],
				    strerror(errno));
				free(fds);
				close(pfd);
				return -1;
			}
			close(fd);
		} else if (!(fi.flags & O_CLOEXEC))
			fcntl(fd, F_SETFD, 0);
	}
	free(fds);
	close(pfd);
	/* P holds them until it is parked; the same numbers here */
	if (plocks_of(pid, &p->locks, &p->nlocks, cause) == -1)
		return -1;

	if (procfs_status(pid, &st, cause) == -1)
		return -1;
	if ((dfd = open_cwd(pid)) != -1) {
		if (fchdir(dfd) == -1)
			log_debug("deputy: fchdir: %s", strerror(errno));
		close(dfd);
	}
	if (st.has_umask)
		umask(st.umask);
	if (owner_groups(pid, &groups, &ngroups) == -1)
		return cause_set(cause, "reading the groups of %d", (int)pid);
	if (setgroups(ngroups, groups) == -1) {
		free(groups);
		return cause_set(cause, "setgroups: %s", strerror(errno));
	}
	free(groups);
	if (setresgid(st.gid[0], st.gid[1], st.gid[2]) == -1 ||
	    setresuid(st.uid[0], st.uid[1], st.uid[2]) == -1)
		return cause_set(cause, "dropping to uid %u: %s", st.uid[1],
		    strerror(errno));
	/* the node's key is in our memory: the owner may not read it */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

/* Wait for READY or FAIL from a host that has the whole image. */
/*
 * MIG_FILE_REQ: bytes of a file the image maps that the host lacks. Read
 * with the process's own credentials (the deputy has them by now), so the
 * host gets nothing its owner could not read here; only if the file is
 * still the one the image names (size and mtime: its dev and ino are
 * another node's when the process moves on from a host's own copy).
 */
static int
serve_file_req(struct dep *p, struct miglink *l, const uint8_t *pl,
    size_t len, char **cause)
{
	struct mig_file_req	*q;
	struct mig_file_data	 d;
	struct stat		 st;
	struct buf		 b;
	ssize_t			 n = 0;
	int			 fd = -1, rc;

	q = xmalloc(sizeof *q);
	if (migwire_decode_file_req(pl, len, q, cause) == -1) {
		free(q);
		return -1;
	}
	memset(&d, 0, sizeof d);
	d.seq = q->seq;
	if ((fd = open(q->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1)
		d.err = errno;
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != q->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec !=
	    q->mtime_ns)
		d.err = ESTALE;
	else {
		do
			n = pread(fd, p->chunk, q->len, (off_t)q->off);
		while (n == -1 && errno == EINTR);
		if (n == -1)
			d.err = errno;
		else {
			d.data = p->chunk;
			d.len = (uint32_t)n;
		}
	}
	if (fd != -1)
		close(fd);
	if (d.err != 0)
		log_info("deputy of %d: the host asked for %s: %s",
		    (int)p->a->orig, q->path, d.err == ESTALE ? "changed "
		    "since the image" : strerror(d.err));
	free(q);
	p->a->stats->bytes_out += d.len;
	buf_init(&b);
	migwire_encode_file_data(&b, &d);
	sent_now(p);
	rc = miglink_send_frames(l, b.data, b.len, cause);
	buf_free(&b);
	return rc;
}

static int
wait_ready(struct dep *p, struct miglink *l, int32_t *gpid, char **cause)
{
	struct mig_ready	 r;
	struct mig_fail		 f;
	struct wire_hdr		 h;
	const uint8_t		*pl;
	int			 rc;

	for (;;) {
		if ((rc = miglink_recv(l, READY_MS, &h, &pl, cause)) == 0)
			return cause_set(cause, "no answer after the image");
		if (rc == -1)
			return -1;
		switch (h.type) {
		case WIRE_PING:
			continue;
		case WIRE_MIG_FILE_REQ:
			if (serve_file_req(p, l, pl, h.len, cause) == -1)
				return -1;
			continue;
		case WIRE_MIG_READY:
			if (migwire_decode_ready(pl, h.len, &r, cause) == -1)
				return -1;
			*gpid = r.guest_pid;
			return 0;
		case WIRE_MIG_FAIL:
			if (migwire_decode_fail(pl, h.len, &f, cause) == -1)
				return -1;
			return cause_set(cause, "%s", f.text);
		default:
			return cause_set(cause, "unexpected %s after the image",
			    wire_type_name(h.type));
		}
	}
}

/*
 * wait_ready on the host a process moves on to, while the host it leaves
 * waits (its guest stopped) for our word: PING it every second.
 */
static int
wait_ready_pinging(struct dep *p, struct miglink *l, int32_t *gpid,
    char **cause)
{
	struct mig_ready	 r;
	struct mig_fail		 f;
	struct wire_hdr		 h;
	const uint8_t		*pl;
	int			 rc, waited = 0;

	for (;;) {
		if ((rc = miglink_recv(l, PING_MS, &h, &pl, cause)) == 0) {
			if ((waited += PING_MS) >= READY_MS)
				return cause_set(cause, "no answer after the "
				    "image");
			if (send_frame(p, WIRE_PING, NULL, 0, cause) == -1)
				return -1;
			continue;
		}
		if (rc == -1)
			return -1;
		switch (h.type) {
		case WIRE_PING:
			continue;
		case WIRE_MIG_FILE_REQ:
			if (serve_file_req(p, l, pl, h.len, cause) == -1)
				return -1;
			continue;
		case WIRE_MIG_READY:
			if (migwire_decode_ready(pl, h.len, &r, cause) == -1)
				return -1;
			*gpid = r.guest_pid;
			return 0;
		case WIRE_MIG_FAIL:
			if (migwire_decode_fail(pl, h.len, &f, cause) == -1)
				return -1;
			return cause_set(cause, "%s", f.text);
		default:
			return cause_set(cause, "unexpected %s after the image",
			    wire_type_name(h.type));
		}
	}
}

static void
send_end(struct dep *p, struct miglink *l, uint64_t total, char **cause)
{
	struct mig_image_end	e = { .total_bytes = total };
	struct buf		b;

	buf_init(&b);
	migwire_encode_image_end(&b, &e);
	if (miglink_send_frames(l, b.data, b.len, cause) == -1)
		log_debug("deputy: %s", *cause);
	buf_free(&b);
}

static void
publish(struct dep *p)
{
	const struct deputy_stats	*s = deputy_stats(p->d);

	p->a->stats->calls = s->calls;
	p->a->stats->errors = s->errors;
	p->a->stats->bytes_in = s->bytes_in;
	p->a->stats->bytes_out = s->bytes_out;
}

static void __attribute__((noreturn))
lost(struct dep *p, const char *why)
{
	depmsg_sendf(p->a->ctl, DM_LOST, 0, 0, "%s", why);
	dep_exit(p, 1);
}

/* Tell the host a guest left what became of its image. */
static void
tell_old_host(struct dep *p, struct miglink *l, int landed, uint32_t node,
    const char *why)
{
	struct guest_landed	gl;
	struct guest_stay	gs;
	struct buf		b;
	char			*cause = NULL;

	buf_init(&b);
	if (landed) {
		gl.node = node;
		migwire_encode_landed(&b, &gl);
	} else {
		memset(&gs, 0, sizeof gs);
		snprintf(gs.text, sizeof gs.text, "%s", why != NULL && *why ?
		    why : "the move failed");
		migwire_encode_stay(&b, &gs);
	}
	sent_now(p);
	if (miglink_send_frames(l, b.data, b.len, &cause) == -1) {
		log_debug("deputy: telling the host: %s", cause);
		free(cause);
	}
	buf_free(&b);
}

/*
 * Wait for ommd's word on an image that came home (DM_HOLD: restored and
 * checked; DM_STAY: it failed, with a new in pipe), keeping the host the
 * guest left (which waits for that word, the guest stopped) from taking
 * our silence for our end.
 */
static int
wait_home_verdict(struct dep *p, struct depmsg *m, int *newpipe)
{
	struct pollfd	 pfd = { p->a->ctl, POLLIN, 0 };
	char		*cause = NULL;
	int		 rc;

	for (;;) {
		do
			rc = poll(&pfd, 1, PING_MS);
		while (rc == -1 && errno == EINTR);
		if (rc == 0) {
			if (send_frame(p, WIRE_PING, NULL, 0, &cause) == -1)
				lost(p, cause);
			continue;
		}
		if (depmsg_recv_fd(p->a->ctl, m, newpipe, &cause) == -1)
			dep_exit(p, 1);		/* ommd is gone */
		if (m->type == DM_HOLD || m->type == DM_STAY)
			return 0;
		if (*newpipe != -1)
			close(*newpipe);
		/* a signal or a bring meanwhile: the process is on its way */
		log_debug("deputy: %s while coming home: dropped",
		    depmsg_name(m->type));
	}
}

/*
 * The image comes home: frames into the in pipe (ommd restores from it).
 * Restored and checked there, the host that kept its guest stopped hears
 * that it landed and D turns into the holder of the process's
 * descriptors; else the host resumes its guest, and D serves it on (with
 * the new in pipe ommd sent for the next time).
 */
static void
come_home(struct dep *p, const struct guest_leaving *lv)
{
	struct wire_hdr	 h;
	struct depmsg	 m;
	const uint8_t	*pl;
	char		*cause = NULL;
	int		 rc, broken = 0, fd = p->a->img_in, newpipe = -1;
	size_t		 off;
	ssize_t		 n;

	depmsg_sendf(p->a->ctl, DM_LEAVING, (int32_t)lv->why, lv->nr, NULL);
	for (;;) {
		if ((rc = miglink_recv(p->link, READY_MS, &h, &pl, &cause)) <= 0)
			lost(p, rc == 0 ? "the image stopped coming" : cause);
		clock_gettime(CLOCK_MONOTONIC, &p->last_recv);
		if (h.type == WIRE_PING)
			continue;
		if (h.type == WIRE_MIG_IMAGE_END)
			break;
		/* the host's dump failed: it resumed its guest, waits for STAY */
		if (h.type == WIRE_MIG_FAIL)
			break;
		if (h.type != WIRE_MIG_IMAGE)
			continue;	/* a late reply or stop: irrelevant now */
		for (off = 0; !broken && off < h.len; off += (size_t)n) {
			n = write(fd, pl + off, h.len - off);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				broken = 1;	/* ommd gave up: drain */
		}
	}
	close(fd);
	((struct deputyd_args *)p->a)->img_in = -1;
	wait_home_verdict(p, &m, &newpipe);
	if (m.type == DM_HOLD) {
		tell_old_host(p, p->link, 1, 0, NULL);
		miglink_free(p->link);
		p->link = NULL;
		deputyd_become_holder(p->a->ctl, p->floor);
	}
	/* DM_STAY: it goes on where it was */
	if (newpipe == -1)
		lost(p, "ommd sent no pipe for the next way home");
	if ((fd = fcntl(newpipe, F_DUPFD_CLOEXEC, p->floor)) == -1)
		lost(p, "moving the new in pipe");
	close(newpipe);
	((struct deputyd_args *)p->a)->img_in = fd;
	log_info("deputy of %d: coming home failed (%s); it goes on at node %u",
	    (int)p->a->orig, m.text, p->host);
	tell_old_host(p, p->link, 0, 0, m.text);
	clock_gettime(CLOCK_MONOTONIC, &p->last_recv);
}

/* A forwarded call: run it, answer it. -1: not a request. */
static int
serve_request(struct dep *p, const struct wire_hdr *h, const uint8_t *pl,
    struct buf *out)
{
	static struct buf	 rep;
	uint16_t		 rtype;
	char			*cause = NULL;

	if (h->type != MARSHAL_SYSCALL_REQ && h->type != MARSHAL_FDINFO_REQ &&
	    h->type != MARSHAL_FDDATA_REQ)
		return -1;
	buf_reset(&rep);
	if (deputy_handle(p->d, h->type, pl, h->len, &rep, &rtype, &cause) == -1)
		lost(p, cause);
	publish(p);
	/* a signal that interrupted the call goes before its reply */
	if (interrupted) {
		while (!p->has_deferred && ctl_ready(p))
			ctl_message(p, out, 1);
		interrupted = 0;
	}
	if (send_frame(p, rtype, rep.data, rep.len, &cause) == -1)
		lost(p, cause);
	return 0;
}

/*
 * The process moves on from its host to another, its deputy staying here:
 * offer it to the new host first (a refusal leaves it where it is), then
 * ask the old one to let it go and relay the image, frame by frame.
 */
static void
move_on(struct dep *p, const struct depmsg *m, struct buf *out)
{
	struct sockaddr_in	 to;
	struct guest_bring	 gb = { MIG_BRING_MOVE };
	struct guest_leaving	 lv;
	struct miglink		*nl;
	struct wire_hdr		 h;
	const uint8_t		*pl;
	uint64_t		 total = 0;
	int32_t			 gpid = 0;
	char			*cause = NULL;
	int			 rc;

	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = m->ip;
	to.sin_port = m->port;
	if ((nl = offer(p, m->node, &to, &cause)) == NULL) {
		depmsg_sendf(p->a->ctl, DM_MOVEFAIL, 0, 0, "%s", cause);
		free(cause);
		return;
	}
	migwire_encode_bring(out, &gb);
	if (send_buf(p, out, &cause) == -1)
		lost(p, cause);
	/* answer what the old host asks meanwhile, until it leaves */
	for (;;) {
		if ((rc = miglink_recv(p->link, READY_MS, &h, &pl, &cause)) <= 0)
			lost(p, rc == 0 ? "the host did not let it go" : cause);
		if (h.type == WIRE_GUEST_LEAVING)
			break;
		if (h.type == WIRE_GUEST_EXIT) {
			struct guest_exit	ge;

			if (migwire_decode_exit(pl, h.len, &ge, &cause) == -1)
				lost(p, cause);
			miglink_free(nl);
			depmsg_sendf(p->a->ctl, DM_EXITED, ge.wstatus, 0, NULL);
			dep_exit(p, 0);
		}
		if (serve_request(p, &h, pl, out) == -1)
			continue;	/* usage, stops, pings: nothing to relay */
	}
	if (migwire_decode_leaving(pl, h.len, &lv, &cause) == -1)
		lost(p, cause);
	for (;;) {
		if ((rc = miglink_recv(p->link, READY_MS, &h, &pl, &cause)) <= 0)
			lost(p, rc == 0 ? "the image stopped coming" : cause);
		clock_gettime(CLOCK_MONOTONIC, &p->last_recv);
		if (h.type == WIRE_MIG_IMAGE_END)
			break;
		if (h.type == WIRE_MIG_FAIL) {
			/* the old host's dump failed: the new one gives up */
			struct mig_fail	f;

			memset(&f, 0, sizeof f);
			snprintf(f.text, sizeof f.text, "the image did not "
			    "come whole");
			buf_reset(out);
			migwire_encode_fail(out, &f);
			miglink_send_frames(nl, out->data, out->len, &cause);
			buf_reset(out);
			free(cause);
			cause = xstrdup("the old host could not dump it");
			goto stay;
		}
		if (h.type != WIRE_MIG_IMAGE)
			continue;
		if (miglink_send(nl, WIRE_MIG_IMAGE, pl, h.len, &cause) == -1)
			goto stay;
		total += h.len;
	}
	send_end(p, nl, total, &cause);
	if (wait_ready_pinging(p, nl, &gpid, &cause) == -1)
		goto stay;
	/* restored and checked there: the old host's copy goes */
	tell_old_host(p, p->link, 1, m->node, NULL);
	miglink_free(p->link);
	p->link = nl;
	p->host = m->node;
	clock_gettime(CLOCK_MONOTONIC, &p->last_recv);
	{
		struct depmsg	dm;

		memset(&dm, 0, sizeof dm);
		dm.type = DM_MOVED;
		dm.a = gpid;
		dm.value = total;
		if (depmsg_send(p->a->ctl, &dm, &cause) == -1)
			dep_exit(p, 1);
	}
	return;

stay:
	/* the old host kept its guest stopped: it goes on there */
	log_info("deputy of %d: moving on to node %u failed (%s); it goes on "
	    "at node %u", (int)p->a->orig, m->node, cause, p->host);
	miglink_free(nl);
	tell_old_host(p, p->link, 0, 0, cause);
	clock_gettime(CLOCK_MONOTONIC, &p->last_recv);
	depmsg_sendf(p->a->ctl, DM_MOVEFAIL, 0, 0, "%s", cause);
	free(cause);
}

static int
ctl_ready(struct dep *p)
{
	struct pollfd	pfd = { p->a->ctl, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1;
}

/*
 * One message from ommd: a signal or a bring to pass on. Between a call
 * and its reply (signals_only) a bring waits in p->deferred: moving the
 * process then would leave the host waiting for that reply. Returns the
 * type passed on (0: deferred).
 */
static uint32_t
ctl_message(struct dep *p, struct buf *out, int signals_only)
{
	struct depmsg		 m;
	struct guest_signal	 gs;
	struct guest_bring	 gb;
	char			*cause = NULL;

	if (p->has_deferred && !signals_only) {
		m = p->deferred;
		p->has_deferred = 0;
		goto have;
	}
	if (depmsg_recv(p->a->ctl, &m, &cause) == -1) {
		/* ommd is gone, or let the process go: so does the guest */
		memset(&gs, 0, sizeof gs);
		gs.signo = SIGKILL;
		migwire_encode_signal(out, &gs);
		send_buf(p, out, &cause);
		dep_exit(p, 1);
	}
	if (signals_only && m.type != DM_SIGNAL) {
		p->deferred = m;
		p->has_deferred = 1;
		return 0;
	}
have:
	switch (m.type) {
	case DM_SIGNAL:
		memset(&gs, 0, sizeof gs);
		gs.signo = m.a;
		gs.code = m.b;
		gs.pid = m.pid;
		gs.uid = m.uid;
		gs.value = m.value;
		migwire_encode_signal(out, &gs);
		if (send_buf(p, out, &cause) == -1)
			lost(p, cause);
		p->a->stats->signals++;
		break;
	case DM_BRING:
		if (m.node != 0) {
			move_on(p, &m, out);
			break;
		}
		gb.reason = (uint32_t)m.a;
		migwire_encode_bring(out, &gb);
		if (send_buf(p, out, &cause) == -1)
			lost(p, cause);
		break;
	default:
		break;
	}
	return m.type;
}

/* The home end of the guest's life. */
static void __attribute__((noreturn))
serve(struct dep *p)
{
	struct pollfd		 pfd[2];
	struct wire_hdr		 h;
	struct guest_exit	 ge;
	struct guest_stopped	 gst;
	struct guest_leaving	 lv;
	struct timespec		 now;
	struct buf		 out;
	const uint8_t		*pl;
	char			*cause = NULL;
	int			 rc;
	long			 idle;

	buf_init(&out);
	for (;;) {
		if (!miglink_pending(p->link)) {
			pfd[0].fd = miglink_fd(p->link);
			pfd[0].events = POLLIN;
			pfd[1].fd = p->a->ctl;
			pfd[1].events = POLLIN;
			rc = poll(pfd, 2, p->has_deferred ? 0 : PING_MS);
			if (rc == -1 && errno != EINTR)
				lost(p, "poll failed");
			clock_gettime(CLOCK_MONOTONIC, &now);
			idle = (now.tv_sec - p->last_send.tv_sec) * 1000 +
			    (now.tv_nsec - p->last_send.tv_nsec) / 1000000;
			if (idle >= PING_MS && send_frame(p, WIRE_PING, NULL, 0,
			    &cause) == -1)
				lost(p, cause);
			if (p->has_deferred || (rc > 0 &&
			    (pfd[1].revents & (POLLIN | POLLHUP)))) {
				interrupted = 0;
				/*
				 * A signal relayed between calls: the next
				 * call that would wait is not started (the
				 * guest may have made it before the signal
				 * came): deputy_exec answers it with a
				 * restart, which ends it there if the signal
				 * acts.
				 */
				if (ctl_message(p, &out, 0) == DM_SIGNAL)
					interrupted = 1;
				continue;
			}
			if (now.tv_sec - p->last_recv.tv_sec > SILENT_S)
				lost(p, "no word from the host for 10 s");
			if (rc <= 0 || !(pfd[0].revents & (POLLIN | POLLHUP |
			    POLLERR)))
				continue;
		}
		if ((rc = miglink_recv(p->link, 0, &h, &pl, &cause)) == 0)
			continue;
		if (rc == -1)
			lost(p, cause);
		clock_gettime(CLOCK_MONOTONIC, &p->last_recv);
		switch (h.type) {
		case MARSHAL_SYSCALL_REQ:
		case MARSHAL_FDINFO_REQ:
		case MARSHAL_FDDATA_REQ:
			serve_request(p, &h, pl, &out);
			break;
		case WIRE_PING:
			break;
		case WIRE_GUEST_USAGE: {
			struct guest_usage	u;

			if (migwire_decode_usage(pl, h.len, &u, &cause) == -1)
				lost(p, cause);
			p->a->stats->cpu_ns = u.cpu_ns;
			p->a->stats->rss = u.rss;
			p->a->stats->host_cpus_milli = u.host_cpus_milli;
			p->a->stats->host_load = u.host_load;
			clock_gettime(CLOCK_MONOTONIC, &now);
			p->a->stats->usage_ms = (uint64_t)now.tv_sec * 1000 +
			    (uint64_t)now.tv_nsec / 1000000;
			break;
		}
		case WIRE_GUEST_EXIT:
			if (migwire_decode_exit(pl, h.len, &ge, &cause) == -1)
				lost(p, cause);
			depmsg_sendf(p->a->ctl, DM_EXITED, ge.wstatus, 0, NULL);
			dep_exit(p, 0);
		case WIRE_GUEST_STOPPED:
			if (migwire_decode_stopped(pl, h.len, &gst, &cause) == -1)
				lost(p, cause);
			depmsg_sendf(p->a->ctl, DM_STOPPED, gst.signo, 0, NULL);
			break;
		case WIRE_GUEST_LEAVING:
			if (migwire_decode_leaving(pl, h.len, &lv, &cause) == -1)
				lost(p, cause);
			publish(p);
			come_home(p, &lv);
			break;
		default:
			xasprintf(&cause, "protocol: unexpected %s",
			    wire_type_name(h.type));
			lost(p, cause);
		}
	}
}

/*
 * P's POSIX locks become ours once ommd has parked it (it let go of them
 * there), before the first call is served. One taken meanwhile by another
 * process is lost: the process ends, saying which (plocks.h).
 */
static void
take_locks(struct dep *p)
{
	struct depmsg	 m;
	char		*cause = NULL, *why;

	if (wait_ctl(p, &m, READY_MS, &cause) == -1)
		lost(p, cause);
	if (m.type != DM_PARKED) {
		xasprintf(&cause, "protocol: %s from ommd before PARKED",
		    depmsg_name(m.type));
		lost(p, cause);
	}
	if (p->nlocks > 0 && plocks_take(p->locks, p->nlocks, &cause) == -1) {
		m.text[sizeof m.text - 1] = '\0';
		xasprintf(&why, "%s%s%s", cause, m.text[0] ? "; parking: " : "",
		    m.text);
		lost(p, why);
	}
	free(p->locks);
	p->locks = NULL;
	p->nlocks = 0;
}

void
deputyd_main(const struct deputyd_args *a)
{
	struct dep		 p;
	struct depmsg		 m;
	struct rlimit		 rl;
	struct sigaction	 sa;
	char			*cause = NULL;
	int			 fds[3];
	int64_t			 total;
	int32_t			 gpid = 0;

	memset(&p, 0, sizeof p);
	p.a = a;
	p.floor = a->floor;
	p.chunk = xmalloc(PIPE_CHUNK);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;	/* no SA_RESTART: interrupt the call */
	sigaction(SIGUSR1, &sa, NULL);
	/* our own fds above the process's limit, within ours */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_max < (rlim_t)p.floor + 64)
			p.floor = rl.rlim_max > 128 ? (int)rl.rlim_max - 64 : 64;
		rl.rlim_cur = (rlim_t)p.floor + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds[0] = a->ctl;
	fds[1] = a->img_out;
	fds[2] = a->img_in;
	keep_only(&p, fds, 3);
	/* the args are ours to rewrite: a copy made by fork */
	((struct deputyd_args *)a)->ctl = fds[0];
	((struct deputyd_args *)a)->img_out = fds[1];
	((struct deputyd_args *)a)->img_in = fds[2];

	if ((p.link = offer(&p, a->host, &a->to, &cause)) == NULL) {
		depmsg_sendf(a->ctl, DM_REFUSED, 0, 0, "%s", cause);
		dep_exit(&p, 1);
	}
	p.host = a->host;
	depmsg_sendf(a->ctl, DM_ACCEPTED, 0, 0, NULL);
	if ((total = pump_out(&p, p.link, a->img_out, &cause)) == -1) {
		depmsg_sendf(a->ctl, DM_FAILED, 0, 0, "sending the image: %s",
		    cause);
		dep_exit(&p, 1);
	}
	close(a->img_out);
	if (wait_ctl(&p, &m, READY_MS, &cause) == -1 || m.type != DM_DUMPED) {
		struct mig_fail	f;
		struct buf	b;

		memset(&f, 0, sizeof f);
		snprintf(f.text, sizeof f.text, "the dump at home failed");
		buf_init(&b);
		migwire_encode_fail(&b, &f);
		miglink_send_frames(p.link, b.data, b.len, &cause);
		buf_free(&b);
		dep_exit(&p, 1);
	}
	if (take_over(&p, &cause) == -1) {
		depmsg_sendf(a->ctl, DM_FAILED, 0, 0, "deputy: %s", cause);
		dep_exit(&p, 1);
	}
	send_end(&p, p.link, (uint64_t)total, &cause);
	if (wait_ready(&p, p.link, &gpid, &cause) == -1) {
		depmsg_sendf(a->ctl, DM_FAILED, 0, 0, "%s", cause);
		dep_exit(&p, 1);
	}
	if ((p.d = deputy_new(a->orig, p.floor, &cause)) == NULL) {
		depmsg_sendf(a->ctl, DM_FAILED, 0, 0, "deputy: %s", cause);
		dep_exit(&p, 1);
	}
	deputy_set_intr(p.d, &interrupted);
	depmsg_sendf(a->ctl, DM_READY, gpid, 0, NULL);
	take_locks(&p);
	sent_now(&p);
	clock_gettime(CLOCK_MONOTONIC, &p.last_recv);
	serve(&p);
}
