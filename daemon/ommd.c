/* ommd.c: the omm node daemon: options, config, the event loop and its signals. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/config.h"
#include "omm/log.h"
#include "omm/sdnotify.h"
#include "omm/xmalloc.h"

#include "balancer.h"
#include "cluster.h"
#include "control.h"
#include "deputyd.h"
#include "host.h"
#include "jobd.h"
#include "jobs.h"
#include "reload.h"

#define SHUTDOWN_GUESTS_MS	10000	/* guests hosted here going home */

static struct event_base	*base;
static struct omm_config	 conf;
static const char		*conf_path = OMM_CONF_PATH;
static int			 conf_given;
static int			 verbose_opts;	/* -v count, added to the config's */
static char			*internal_path;	/* the job supervisors' socket */
static struct event		*sig_events[4];
static struct event		*repeat_ev;	/* rate-limited log summaries */
static size_t			 nsig_events;

static const char	ommd_usage[] =
    "usage: ommd [-f|--foreground] [-c CONFIG] [-s SOCKET] [-v]...\n"
    "       ommd --help | --version\n";

/* Misuse: usage on stderr, exit 2. */
static void __attribute__((noreturn))
usage(void)
{
	fputs(ommd_usage, stderr);
	exit(2);
}

/* Asked for: on stdout, exit 0. */
static void __attribute__((noreturn))
help(void)
{
	fputs(ommd_usage, stdout);
	fputs("The omm node daemon: membership, gossip and balancing, the "
	    "deputies of the\nprocesses launched here and the guests other "
	    "nodes send.\n"
	    "  -f, --foreground  stay in the foreground, log to stderr\n"
	    "  -c, --config FILE the configuration (default "
	    "/etc/omm/ommd.conf)\n"
	    "  -s, --socket PATH the control socket omrun and omctl use\n"
	    "  -v, --verbose     more log; twice: debug\n", stdout);
	exit(0);
}

/* libevent's own messages go through our log. */
static void
event_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* ommd's children: job supervisors and guest servers. */
static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	pid_t	pid;
	int	status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (!jobs_child_exited(pid, status))
			host_child_exited(pid, status);
	}
}

/*
 * SIGTERM: peers get a BYE, which the loop sends for a moment before it
 * stops; a second signal stops at once.
 */
static void
finish_shutdown(void)
{
	struct timeval	tv = { 0, 300 * 1000 };

	cluster_shutdown();
	event_base_loopexit(base, &tv);
}

static void
on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	static int		stopping;

	if (stopping) {
		event_base_loopbreak(base);
		return;
	}
	stopping = 1;
	sdnotify("STOPPING=1\nSTATUS=sending guests home");
	/*
	 * Our jobs are their supervisors': they run on, away or at home,
	 * and the next ommd takes them back. Guests go home.
	 */
	log_info("%s: shutting down; %zu processes in %s go on under their "
	    "job supervisors", strsignal((int)sig), jobs_nprocs(),
	    jobs_nprocs() == 1 ? "its job" : "their jobs");
	host_stop(SHUTDOWN_GUESTS_MS);
	finish_shutdown();
}

/* SIGHUP: what omctl reload does (reload.c); the log says what it did. */
static void
on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct msg_reloaded	 r;
	char			*cause = NULL;

	sdnotify("RELOADING=1");
	if (reload_run(&r, &cause) != 0) {
		free(cause);
		sdnotify("READY=1");
		return;
	}
	proto_free_reloaded(&r);
	sdnotify("READY=1");
}

/* Once a second: what rate-limited log lines left out is said. */
static void
on_repeat(evutil_socket_t fd, short what, void *arg)
{
	log_repeat_flush();
}

static void
add_signal(int sig, event_callback_fn fn)
{
	struct event	*ev;

	if (nsig_events == sizeof sig_events / sizeof sig_events[0])
		fatalx("%s: too many signals", __func__);
	if ((ev = evsignal_new(base, sig, fn, NULL)) == NULL ||
	    event_add(ev, NULL) == -1)
		fatalx("cannot handle signal %d", sig);
	sig_events[nsig_events++] = ev;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "socket",	required_argument,	NULL, 's' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*sock_opt = NULL;
	char		*cause = NULL;
	int		 ch, foreground = 0, fd;

	/* what a deputy becomes when its process comes home: deputyd.h */
	if (argc >= 2 && strcmp(argv[1], "--hold") == 0)
		return deputyd_holder_main(argc, argv);
	/* a job's supervisor, started by ommd: jobd.h */
	if (argc >= 2 && strcmp(argv[1], "--job") == 0)
		return jobd_main(argc, argv);
	while ((ch = getopt_long(argc, argv, "fc:s:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
		case 'V':
			printf("ommd (omm) %s\n", OMM_VERSION);
			return 0;
		case 'f':
			foreground = 1;
			break;
		case 'c':
			conf_path = optarg;
			conf_given = 1;
			break;
		case 's':
			sock_opt = optarg;
			break;
		case 'v':
			verbose_opts++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_init("ommd", LOG_TO_STDERR, verbose_opts);
	if (geteuid() != 0) {
		fprintf(stderr, "ommd: must run as root: it traces the "
		    "processes of every user\n");
		exit(1);
	}
	config_defaults(&conf);
	if (config_load(&conf, conf_path, conf_given, &cause) != 0) {
		fprintf(stderr, "ommd: %s\n", cause);
		exit(1);
	}
	if (sock_opt != NULL) {
		free(conf.socket_path);
		conf.socket_path = xstrdup(sock_opt);
	}
	log_setverbose(conf.verbose + verbose_opts);
	umask(022);
	signal(SIGPIPE, SIG_IGN);

	/* errors up to here still reach the terminal */
	if ((fd = control_listen(conf.socket_path, &cause)) == -1) {
		fprintf(stderr, "ommd: %s\n", cause);
		exit(1);
	}
	if (!foreground) {
		if (daemon(0, !conf.log_syslog) == -1)
			fatal("daemon");
		if (conf.log_syslog)
			log_init("ommd", LOG_TO_SYSLOG,
			    conf.verbose + verbose_opts);
	}

	event_set_log_callback(event_log);
	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	add_signal(SIGCHLD, on_sigchld);
	add_signal(SIGTERM, on_sigterm);
	add_signal(SIGINT, on_sigterm);
	add_signal(SIGHUP, on_sighup);
	reload_init(&conf, conf_path, conf_given, sock_opt != NULL,
	    verbose_opts);
	reload_apply_limits(&conf);
	{
		struct timeval	tv = { 1, 0 };

		if ((repeat_ev = event_new(base, -1, EV_PERSIST, on_repeat,
		    NULL)) == NULL || event_add(repeat_ev, &tv) == -1)
			fatalx("cannot set up the log timer");
	}
	{
		struct jobs_config	jc;
		char			*dir, *p;

		dir = xstrdup(conf.socket_path);
		if ((p = strrchr(dir, '/')) != NULL && p != dir)
			*p = '\0';
		xasprintf(&internal_path, "%s.internal", conf.socket_path);
		host_set_internal(internal_path);
		memset(&jc, 0, sizeof jc);
		jc.internal_path = internal_path;
		jc.run_dir = dir;
		jc.conf_path = conf_given ? conf_path : NULL;
		jc.conf_given = conf_given;
		jc.verbose = verbose_opts;
		jc.syslog = !foreground && conf.log_syslog;
		if (jobs_start(base, &jc, &cause) != 0) {
			fprintf(stderr, "ommd: %s\n", cause);
			exit(1);
		}
		free(dir);
	}
	control_start(base, fd, conf.socket_path);
	log_info("listening on %s", conf.socket_path);
	if (cluster_start(base, &conf, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		control_shutdown();
		event_base_free(base);
		exit(1);
	}

	balancer_start(base, &conf);
	/* the control socket listens: omctl is answered from here on */
	sdnotify("READY=1\nSTATUS=running");
	if (event_base_dispatch(base) == -1)
		log_warnx("event loop failed");

	/* tracees carry on without us, just as they were */
	control_shutdown();
	jobs_shutdown();
	cluster_free();
	while (nsig_events > 0)
		event_free(sig_events[--nsig_events]);
	event_free(repeat_ev);
	log_repeat_flush_at(INT64_MAX);
	event_base_free(base);
	config_free(&conf);
	log_info("exiting");
	return 0;
}
