/*
 * fuzz_proto.c: libFuzzer harness for the control protocol decoders.
 *
 * The first input byte says whether a descriptor came with the message
 * (bit 0), the rest is one datagram as ommd or a client receives it: the
 * header is split, then version, type and payload are checked exactly as
 * the daemon does (proto_validate decodes with the type's own decoder).
 *
 * With FUZZ_PROTO_SEEDS=DIR in the environment, LLVMFuzzerInitialize first
 * writes one valid message of every type into DIR as a seed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/proto.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
seed(const char *dir, const char *name, uint8_t fdflag, struct buf *b)
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputc(fdflag, f);
		fwrite(b->data, 1, b->len, f);
		fclose(f);
	}
	buf_reset(b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct msg_pid		 pid = { .pid = 1234 };
	struct msg_restored	 rd = { .pid = 1234 };
	struct msg_checkpoint	 ck = { .pid = 1234, .flags = 1 };
	struct msg_checkpointed	 ckd = { .pid = 1234, .comm = "gzip" };
	struct msg_ps_entry	 pe = { .pid = 5, .ppid = 1, .uid = 1000,
				    .job = 2, .state = 1, .threads = 4,
				    .command = "sh -c x", .cantmove = "fd 3: socket",
				    .home_node = 1, .where = 2, .where_name = "node2",
				    .migrations = 1, .away = PROTO_AWAY_REMOTE,
				    .fwd_calls = 9, .fwd_errors = 1 };
	struct msg_migrate	 mig = { .pid = 5, .node = "node2",
				    .flags = PROTO_MIG_AFTER_EXEC };
	struct msg_migrated	 migd = { .pid = 5, .node = 2,
				    .node_name = "node2", .comm = "xz",
				    .freeze_secs = 0.4, .bytes = 1 << 20,
				    .secs = 0.5 };
	struct msg_bring	 bring = { .pid = 0, .flags = PROTO_BRING_ALL };
	struct msg_lock		 lock = { .pid = 5, .on = 1 };
	struct msg_policy	 pol = { .pid = 5, .flags = PROTO_POL_STAY,
				    .nnodes = 3, .nodes = { 2, 3, 7 } };
	struct msg_ps_end	 pend = { .count = 3 };
	struct msg_periodic	 per = { .pid = 5, .seconds = 60,
				    .path = "/home/u/x.img" };
	struct msg_node		 node = { .node = 2, .state = PROTO_NODE_UP,
				    .link = PROTO_LINK_UP, .has_lv = 1,
				    .incarnation = 99, .age_ms = 300,
				    .name = "node2" };
	struct msg_count	 cnt = { .count = 4 };
	struct msg_link		 lk = { .node = 2, .name = "node2",
				    .state = PROTO_LINK_UP, .up_ms = 5000,
				    .serial = 3, .established = 1,
				    .error = "connection closed" };
	struct msg_set		 set = { .setting = 2, .value = 1 };
	struct msg_status	 st;
	struct buf		 b;
	const char		*dir = getenv("FUZZ_PROTO_SEEDS");
	size_t			 i;

	if (dir == NULL)
		return 0;
	rd.stats.pages = 10;
	ckd.stats.secs = 0.5;
	buf_init(&b);
	proto_encode_ok(&b);
	seed(dir, "ok", 0, &b);
	proto_encode_error(&b, "no such process 5");
	seed(dir, "error", 0, &b);
	proto_encode_manage(&b, &pid);
	seed(dir, "manage", 0, &b);
	proto_encode_restore(&b, &pid);
	seed(dir, "restore", 1, &b);
	proto_encode_restored(&b, &rd);
	seed(dir, "restored", 0, &b);
	proto_encode_checkpoint(&b, &ck);
	seed(dir, "checkpoint", 1, &b);
	proto_encode_checkpointed(&b, &ckd);
	seed(dir, "checkpointed", 0, &b);
	proto_encode_ps(&b);
	seed(dir, "ps", 0, &b);
	proto_encode_ps_entry(&b, &pe);
	seed(dir, "ps_entry", 0, &b);
	proto_encode_ps_end(&b, &pend);
	seed(dir, "ps_end", 0, &b);
	proto_encode_periodic(&b, &per);
	seed(dir, "periodic", 0, &b);
	node.lv.ncpu = 2;
	node.lv.speed = 30000;
	node.lv.mem_total = 1000;
	node.lv.mem_free = 500;
	proto_encode_node(&b, &node);
	seed(dir, "node", 0, &b);
	proto_encode_count(&b, MSG_NODES_END, &cnt);
	seed(dir, "nodes_end", 0, &b);
	memset(&st, 0, sizeof st);
	for (i = 0; i < PROTO_ST_NSTR; i++)
		st.str[i] = "x";
	proto_encode_status(&b, &st);
	seed(dir, "status_info", 0, &b);
	proto_encode_link(&b, &lk);
	seed(dir, "link", 0, &b);
	proto_encode_set(&b, &set);
	seed(dir, "set", 0, &b);
	proto_encode_empty(&b, MSG_NODES);
	seed(dir, "nodes", 0, &b);
	proto_encode_migrate(&b, &mig);
	seed(dir, "migrate", 0, &b);
	proto_encode_migrated(&b, &migd);
	seed(dir, "migrated", 0, &b);
	proto_encode_bring(&b, &bring);
	seed(dir, "bring", 0, &b);
	proto_encode_count(&b, MSG_BROUGHT, &cnt);
	seed(dir, "brought", 0, &b);
	proto_encode_lock(&b, &lock);
	seed(dir, "lock", 0, &b);
	proto_encode_policy(&b, &pol);
	seed(dir, "policy", 0, &b);
	pol.flags = 0;
	pol.nnodes = PROTO_POLICY_MAX_NODES;
	for (i = 0; i < PROTO_POLICY_MAX_NODES; i++)
		pol.nodes[i] = i + 1;
	proto_encode_policy(&b, &pol);
	seed(dir, "policy_full", 0, &b);
	buf_free(&b);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg	 m;
	char			*cause = NULL;

	if (size < 1)
		return 0;
	if (proto_hdr_decode(&m, data + 1, size - 1, &cause) == 0) {
		/* a number that is never used as a descriptor */
		m.fd = (data[0] & 1) ? 1000 : -1;
		(void)proto_validate(&m, &cause);
	}
	free(cause);
	return 0;
}
