/* request.h: what ommd does for each control request, after authorising it. */
#ifndef OMMD_REQUEST_H
#define OMMD_REQUEST_H

struct ctl_conn;
struct proto_msg;

/*
 * Act on a valid message (version, type and payload checked) and queue the
 * replies. A refused or failed request is answered with ERROR and returns
 * 0; -1 (with cause) means the message is not a request at all, and the
 * connection should be dropped. The message's descriptor stays the
 * caller's.
 */
int	request_handle(struct ctl_conn *, const struct proto_msg *,
	    char **cause) __attribute__((warn_unused_result));

#endif
