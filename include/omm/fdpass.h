/*
 * fdpass.h: one datagram plus at most one descriptor over an AF_UNIX
 * socket (SCM_RIGHTS). Shared by the control protocol and by ommd's
 * helpers that open files with a user's credentials.
 */
#ifndef OMM_FDPASS_H
#define OMM_FDPASS_H

#include <sys/types.h>

#include <stddef.h>

/* Send len bytes and, if fd != -1, fd with them. Bytes sent, or -1 (errno). */
ssize_t	fdpass_send(int sock, const void *, size_t len, int fd);

/*
 * Receive one datagram of at most size bytes. *fd is the descriptor that
 * came with it (close-on-exec) or -1. A datagram that carried more than
 * one descriptor, or whose control data was cut, gets *fd = -1, every
 * descriptor closed and *excess = 1, so a caller can refuse it without
 * leaking. *trunc is 1 when the payload was larger than size.
 * Bytes received, 0 at end of stream, or -1 (errno).
 */
ssize_t	fdpass_recv(int sock, void *, size_t size, int *fd, int *excess,
	    int *trunc);

#endif
