/* TCP_NODELAY on the mock cluster's accepted connections.
 *
 * librdkafka's mock brokers accept connections without TCP_NODELAY, so a
 * small response written while an earlier one is still unacknowledged waits
 * for the client's delayed ACK (tens of milliseconds, at random, in the
 * middle of a produce run). Kafka brokers set TCP_NODELAY on every connection; doing
 * the same here makes the local lab's timings those of the clients, not of a
 * Nagle stall. The mock calls accept() from librdkafka, so this program's
 * definitions take the call and hand it to the C library's. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, accept4 */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>

static int no_delay(int fd)
{
    if (fd >= 0) {
        int one = 1;
        /* Fails harmlessly on a socket that is not TCP. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int (*next_accept)(int, struct sockaddr *, socklen_t *);
static int (*next_accept4)(int, struct sockaddr *, socklen_t *, int);
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void find_next(void)
{
    *(void **)&next_accept = dlsym(RTLD_NEXT, "accept");
    *(void **)&next_accept4 = dlsym(RTLD_NEXT, "accept4");
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    pthread_once(&once, find_next);
    if (!next_accept) {
        errno = ENOSYS;
        return -1;
    }
    return no_delay(next_accept(fd, addr, len));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    pthread_once(&once, find_next);
    if (!next_accept4) {
        errno = ENOSYS;
        return -1;
    }
    return no_delay(next_accept4(fd, addr, len, flags));
}
