#include "http_outbox.h"

#include <stdio.h>
#include <stdlib.h>

#include "http_client.h"

struct http_outbox_relay {
    struct outbox_relay relay;
    struct http_outbox_opts o;
};

static bool refused_for_good(int status)
{
    return status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
}

/* One row: 0 with its fate set, -1 when the receiver did not answer. */
static int deliver_row(struct http_outbox_relay *r, struct outbox_row *row)
{
    struct http_result res;
    if (http_call("POST", r->o.url, "application/json", row->body, row->body_len, r->o.timeout_ms,
                  &res) != 0)
        return -1;
    int rc = 0;
    if (res.failure != HTTP_ANSWERED) {
        notify(&r->o.notice, NOTICE_WARN, "%s of order %s not delivered (%s); will retry",
               r->o.what, row->key, res.error);
        rc = -1;
    } else if (res.status >= 200 && res.status < 300) {
        row->fate = OUTBOX_DELIVERED;
    } else {
        row->fate = refused_for_good(res.status) ? OUTBOX_REFUSED : OUTBOX_DEFERRED;
        snprintf(row->why, sizeof row->why, "HTTP %d from %s: %.120s", res.status, r->o.url,
                 res.body ? res.body : "");
    }
    http_result_free(&res);
    return rc;
}

static int deliver(void *ctx, struct worker *w, struct outbox_row *rows, size_t n)
{
    struct http_outbox_relay *r = ctx;
    for (size_t i = 0; i < n && !worker_stopping(w); i++)
        if (!outbox_row_held(rows, i) && deliver_row(r, &rows[i]) != 0)
            return -1;
    return 0;
}

static int settle_locked(void *ctx, const struct outbox_row *rows, size_t n)
{
    struct http_outbox_relay *r = ctx;
    return r->o.settle_locked(r->o.ctx, rows, n);
}

static const struct outbox_relay_ops plain_ops = {.deliver = deliver};
static const struct outbox_relay_ops settling_ops = {.deliver = deliver,
                                                     .settle_locked = settle_locked};

struct http_outbox_relay *http_outbox_relay_start(const struct http_outbox_opts *o,
                                                  struct outbox *ob, struct metrics *m)
{
    struct http_outbox_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->o = *o;
    const struct outbox_relay_ops *ops = o->settle_locked ? &settling_ops : &plain_ops;
    if (outbox_relay_start(&r->relay, &r->o.relay, ops, r, ob, m) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void http_outbox_relay_kick(struct http_outbox_relay *r)
{
    if (r)
        outbox_relay_kick(&r->relay);
}

void http_outbox_relay_stop(struct http_outbox_relay *r)
{
    if (!r)
        return;
    outbox_relay_stop(&r->relay);
    free(r);
}
