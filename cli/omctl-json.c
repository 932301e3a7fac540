/* omctl-json.c: JSON output shared by the commands that have a --json form. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "omctl.h"

/* Length of the valid UTF-8 sequence at s (of at most n bytes), 0 if none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t		need, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/*
 * A JSON string. Command lines are bytes, not always UTF-8: a byte that
 * is not part of valid UTF-8 becomes U+FFFD so the output stays JSON.
 */
void
omctl_json_string(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), k;

	putchar('"');
	while (n > 0) {
		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s);
			k = 1;
		} else if (*s == '\n') {
			fputs("\\n", stdout);
			k = 1;
		} else if (*s == '\t') {
			fputs("\\t", stdout);
			k = 1;
		} else if (*s < 0x20 || *s == 0x7f) {
			printf("\\u%04x", *s);
			k = 1;
		} else if ((k = utf8_len(s, n)) == 0) {
			fputs("\\ufffd", stdout);
			k = 1;
		} else
			fwrite(s, 1, k, stdout);
		s += k;
		n -= k;
	}
	putchar('"');
}


static void
json_string_or_null(const char *s)
{
	if (s == NULL)
		fputs("null", stdout);
	else
		omctl_json_string(s);
}

/* The keys of docs/json-ps.md, in its order. */
void
omctl_json_process(const struct msg_ps_entry *e, const char *user)
{
	printf("{\"pid\":%d,\"ppid\":%d,\"uid\":%u", (int)e->pid, (int)e->ppid,
	    e->uid);
	if (user != NULL) {
		fputs(",\"user\":", stdout);
		omctl_json_string(user);
	}
	printf(",\"job\":%u,\"state\":\"%s\",\"threads\":%u,"
	    "\"start_time\":%lld,\"command\":", e->job,
	    proto_state_name(e->state), e->threads, (long long)e->start_time);
	omctl_json_string(e->command);
	fputs(",\"cantmove\":", stdout);
	json_string_or_null(e->cantmove);
	printf(",\"home_node\":%u,\"where\":%u,\"where_name\":", e->home_node,
	    e->where);
	json_string_or_null(e->where_name);
	printf(",\"away\":\"%s\",\"migrations\":%u,\"locked\":%s,"
	    "\"fwd_calls\":%llu,\"fwd_errors\":%llu,\"fwd_bytes_in\":%llu,"
	    "\"fwd_bytes_out\":%llu,\"fwd_signals\":%llu",
	    proto_away_name(e->away), e->migrations,
	    e->locked ? "true" : "false", (unsigned long long)e->fwd_calls,
	    (unsigned long long)e->fwd_errors,
	    (unsigned long long)e->fwd_bytes_in,
	    (unsigned long long)e->fwd_bytes_out,
	    (unsigned long long)e->fwd_signals);
	/* periodic checkpoints: null when none were asked for */
	if (e->ckpt_every == 0)
		fputs(",\"checkpoint\":null}", stdout);
	else {
		printf(",\"checkpoint\":{\"every\":%u,\"last\":", e->ckpt_every);
		if (e->ckpt_last == 0)
			fputs("null", stdout);
		else
			printf("%lld", (long long)e->ckpt_last);
		fputs(",\"error\":", stdout);
		json_string_or_null(e->ckpt_error);
		fputs("}}", stdout);
	}
}
