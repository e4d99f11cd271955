/* The AMQP consumer's decisions without a broker: its messages come from a
 * source held in memory (amqp_source.h) that settles them as RabbitMQ would
 * (a cumulative ack, nack with or without requeue, unacked messages back to
 * the queue when the link closes), and the apply callback is scripted by
 * order_id. Each case checks what became of every message: acked once
 * applied, dead-lettered with its reason, requeued and counted against its
 * tries, rejected when it cannot be copied. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/event_json.h"
#include "transport/amqp_consume.h"
#include "check.h"

#define MAX_MSGS 64

/* A message in the queue, and what became of it. */
struct mem_msg {
    char body[1024];
    size_t len;
    char refused[AMQP_REASON_MAX];
    bool undecodable;
    uint64_t tag; /* while unacked */
    bool redelivered;
    /* outcomes */
    int acked, requeued, rejected, dead;
    char dead_reason[AMQP_REASON_MAX];
};

struct mem {
    pthread_mutex_t mu;
    struct mem_msg msgs[MAX_MSGS];
    size_t n;
    size_t queue[MAX_MSGS * 8]; /* ready, oldest first: indexes into msgs */
    size_t head, tail;
    size_t unacked[MAX_MSGS];
    size_t nunacked;
    uint64_t next_tag;
    bool open;
    unsigned prefetch, opens, last_prefetch;
    bool dead_letters_fail;
};

static void push(struct mem *s, size_t i)
{
    s->queue[s->tail++ % (MAX_MSGS * 8)] = i;
}

static int mem_open(void *ctx, const char *queue, unsigned prefetch, char *err, size_t errlen)
{
    (void)queue, (void)err, (void)errlen;
    struct mem *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->open = true;
    s->prefetch = prefetch;
    s->last_prefetch = prefetch;
    s->opens++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int mem_next(void *ctx, struct amqp_msg *m, int timeout_ms)
{
    struct mem *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->head == s->tail || s->nunacked >= s->prefetch) {
        pthread_mutex_unlock(&s->mu);
        if (timeout_ms > 0)
            nanosleep(&(struct timespec){0, 5000000}, NULL);
        return 0;
    }
    size_t i = s->queue[s->head++ % (MAX_MSGS * 8)];
    struct mem_msg *x = &s->msgs[i];
    x->tag = ++s->next_tag;
    s->unacked[s->nunacked++] = i;
    *m = (struct amqp_msg){.tag = x->tag, .redelivered = x->redelivered};
    m->body = malloc(x->len + 1);
    memcpy(m->body, x->body, x->len);
    m->body[x->len] = '\0';
    m->len = x->len;
    snprintf(m->routing_key, sizeof m->routing_key, "order.placed");
    memcpy(m->refused, x->refused, sizeof m->refused);
    m->undecodable = x->undecodable;
    pthread_mutex_unlock(&s->mu);
    return 1;
}

/* The unacked message with `tag`, taken off the unacked list; NULL if none. */
static struct mem_msg *take(struct mem *s, uint64_t tag, size_t *index)
{
    for (size_t k = 0; k < s->nunacked; k++) {
        size_t i = s->unacked[k];
        if (s->msgs[i].tag == tag) {
            s->unacked[k] = s->unacked[--s->nunacked];
            *index = i;
            return &s->msgs[i];
        }
    }
    return NULL;
}

static int mem_ack(void *ctx, uint64_t upto)
{
    struct mem *s = ctx;
    pthread_mutex_lock(&s->mu);
    for (size_t k = 0; k < s->nunacked;) {
        struct mem_msg *x = &s->msgs[s->unacked[k]];
        if (x->tag <= upto) {
            x->acked++;
            s->unacked[k] = s->unacked[--s->nunacked];
        } else {
            k++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int mem_nack(void *ctx, uint64_t tag, bool requeue)
{
    struct mem *s = ctx;
    pthread_mutex_lock(&s->mu);
    size_t i;
    struct mem_msg *x = take(s, tag, &i);
    int rc = x ? 0 : -1; /* an unknown tag closes a real channel */
    if (x && requeue) {
        x->requeued++;
        x->redelivered = true;
        push(s, i);
    } else if (x) {
        x->rejected++;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int mem_dead_letter(void *ctx, const char *queue, const struct amqp_msg *m,
                           const char *reason, char *err, size_t errlen)
{
    (void)queue;
    struct mem *s = ctx;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    for (size_t k = 0; k < s->nunacked && !s->dead_letters_fail; k++) {
        struct mem_msg *x = &s->msgs[s->unacked[k]];
        if (x->tag == m->tag) {
            x->dead++;
            snprintf(x->dead_reason, sizeof x->dead_reason, "%s", reason);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    snprintf(err, errlen, "%s", rc ? "refused by the test" : "");
    return rc;
}

static const char *mem_error(void *ctx)
{
    (void)ctx;
    return "closed by the test";
}

/* As a broker: the link's unacked messages go back to the queue. */
static void mem_close(void *ctx, bool all)
{
    (void)all;
    struct mem *s = ctx;
    pthread_mutex_lock(&s->mu);
    for (size_t k = 0; k < s->nunacked; k++) {
        s->msgs[s->unacked[k]].redelivered = true;
        push(s, s->unacked[k]);
    }
    s->nunacked = 0;
    s->open = false;
    pthread_mutex_unlock(&s->mu);
}

/* In the order of struct amqp_source_ops. */
static const struct amqp_source_ops mem_ops = {mem_open,        mem_next,  mem_ack,   mem_nack,
                                               mem_dead_letter, mem_error, mem_close, NULL};

static size_t add_raw(struct mem *s, const char *body)
{
    struct mem_msg *x = &s->msgs[s->n];
    x->len = strlen(body);
    memcpy(x->body, body, x->len);
    push(s, s->n);
    return s->n++;
}

static size_t add_event(struct mem *s, enum event_type t, const char *order_id, const char *id)
{
    struct order o = {.occurred_at = 1700000000000, .n_items = 1, .items = {{0, 1}}};
    snprintf(o.order_id, sizeof o.order_id, "%s", order_id);
    snprintf(o.user_id, sizeof o.user_id, "u1");
    struct event ev;
    event_from_order(&ev, t, &o, t == EVENT_INVENTORY_FAILED ? "out_of_stock" : NULL);
    if (id)
        snprintf(ev.event_id, sizeof ev.event_id, "%s", id);
    char *json = event_encode(&ev);
    size_t i = add_raw(s, json);
    free(json);
    return i;
}

/* The service stand-in: applies by order_id, all or nothing per call.
 * "poison*" fails every call it is part of; "conflict*" is a conflict; an
 * event_id seen before is a duplicate; while busy_calls (unavailable_calls)
 * is positive the store (the service) is unavailable. */
struct svc {
    int busy_calls, unavailable_calls;
    char seen[MAX_MSGS][ID_MAX_LEN + 1];
    size_t nseen;
    int applied[MAX_MSGS]; /* by seen index */
    int calls;
};

static int seen_index(struct svc *v, const char *event_id)
{
    for (size_t i = 0; i < v->nseen; i++)
        if (strcmp(v->seen[i], event_id) == 0)
            return (int)i;
    return -1;
}

static enum amqp_apply_rc apply(void *ctx, struct amqp_consumer *c, struct amqp_item *items,
                                size_t n)
{
    (void)c;
    struct svc *v = ctx;
    v->calls++;
    if (v->busy_calls > 0) {
        v->busy_calls--;
        return AMQP_APPLY_STORE_BUSY;
    }
    if (v->unavailable_calls > 0) {
        v->unavailable_calls--;
        return AMQP_APPLY_UNAVAILABLE;
    }
    size_t before = v->nseen; /* rolled back to on failure */
    for (size_t i = 0; i < n; i++) {
        const char *oid = items[i].ev.order.order_id;
        if (strncmp(oid, "poison", 6) == 0) {
            v->nseen = before;
            return AMQP_APPLY_FAILED;
        }
        if (strncmp(oid, "conflict", 8) == 0) {
            items[i].result = AMQP_ITEM_CONFLICT;
            snprintf(items[i].reason, sizeof items[i].reason, "conflict: %s", oid);
        } else {
            bool again = seen_index(v, items[i].ev.event_id) >= 0;
            items[i].result = again ? AMQP_ITEM_DUPLICATE : AMQP_ITEM_APPLIED;
            if (!again)
                snprintf(v->seen[v->nseen++], sizeof v->seen[0], "%s", items[i].ev.event_id);
        }
    }
    for (size_t i = before; i < v->nseen; i++) /* committed: what took effect */
        v->applied[i]++;
    return AMQP_APPLY_OK;
}

static bool settled(struct mem *s)
{
    pthread_mutex_lock(&s->mu);
    bool done = s->head == s->tail && s->nunacked == 0;
    pthread_mutex_unlock(&s->mu);
    return done;
}

/* Runs a consumer over the queue until every message is settled (or 20 s). */
static void run(struct mem *s, struct svc *v, unsigned prefetch)
{
    struct amqp_consumer_opts o = {
        .source = {&mem_ops, s},
        .queue = "inventory.order-placed",
        .prefetch = prefetch,
        .accepted = 1u << EVENT_ORDER_PLACED,
        .apply = apply,
        .ctx = v,
    };
    struct amqp_consumer *c = amqp_consumer_start(&o);
    CHECK(c != NULL);
    for (int i = 0; i < 2000 && !settled(s); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    CHECK(settled(s));
    amqp_consumer_stop(c);
}

static struct mem *mem_new(void)
{
    struct mem *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void mem_free(struct mem *s)
{
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Settled once and only once, in the way named. */
#define CHECK_ACKED(x) CHECK((x).acked == 1 && (x).dead == 0 && (x).rejected == 0)
#define CHECK_DEAD(x, why)                                                                         \
    do {                                                                                           \
        CHECK((x).dead == 1 && (x).acked == 1 && (x).rejected == 0);                               \
        CHECK_STR((x).dead_reason, why);                                                           \
    } while (0)

/* One batch with every kind of message: the valid ones applied once and
 * acked, the rest dead-lettered with their reason, none requeued. */
static void test_mixed_batch(void)
{
    struct mem *s = mem_new();
    struct svc v = {0};
    size_t a = add_event(s, EVENT_ORDER_PLACED, "o1", NULL);
    size_t bad = add_raw(s, "{\"type\":");
    size_t b = add_event(s, EVENT_ORDER_PLACED, "o2", NULL);
    size_t wrong = add_event(s, EVENT_INVENTORY_RESERVED, "o3", NULL);
    size_t refused = add_event(s, EVENT_ORDER_PLACED, "o4", NULL);
    snprintf(s->msgs[refused].refused, sizeof s->msgs[refused].refused,
             "content_type: text/plain is not JSON");
    size_t dup = add_event(s, EVENT_ORDER_PLACED, "o2", NULL);
    size_t conflict = add_event(s, EVENT_ORDER_PLACED, "conflict1", NULL);
    size_t c = add_event(s, EVENT_ORDER_PLACED, "o5", NULL);
    run(s, &v, 64);
    CHECK_ACKED(s->msgs[a]);
    CHECK_ACKED(s->msgs[b]);
    CHECK_ACKED(s->msgs[dup]);
    CHECK_ACKED(s->msgs[c]);
    CHECK(s->msgs[bad].dead == 1 && s->msgs[bad].dead_reason[0] != '\0');
    CHECK_DEAD(s->msgs[wrong], "type: expected OrderPlaced, got InventoryReserved");
    CHECK_DEAD(s->msgs[refused], "content_type: text/plain is not JSON");
    CHECK_DEAD(s->msgs[conflict], "conflict: conflict1");
    CHECK(v.nseen == 3); /* o1, o2 once (its repeat a duplicate), o5 */
    for (size_t i = 0; i < v.nseen; i++)
        CHECK(v.applied[i] == 1);
    for (size_t i = 0; i < s->n; i++)
        CHECK(s->msgs[i].requeued == 0);
    CHECK(v.calls == 1); /* one transaction for the batch */
    mem_free(s);
}

/* A message whose apply always fails is requeued, its tries counted, and
 * dead-lettered at the fifth; the messages around it are applied once. */
static void test_poison(void)
{
    struct mem *s = mem_new();
    struct svc v = {0};
    size_t a = add_event(s, EVENT_ORDER_PLACED, "o1", NULL);
    size_t p = add_event(s, EVENT_ORDER_PLACED, "poison1", NULL);
    size_t b = add_event(s, EVENT_ORDER_PLACED, "o2", NULL);
    run(s, &v, 64);
    CHECK(s->msgs[p].requeued == 4);
    CHECK_DEAD(s->msgs[p], "failed 5 times: its apply did not succeed");
    CHECK_ACKED(s->msgs[a]);
    CHECK_ACKED(s->msgs[b]);
    CHECK(v.nseen == 2 && v.applied[0] == 1 && v.applied[1] == 1);
    mem_free(s);
}

/* The store unavailable for a while is nobody's fault: tried again in
 * place, nothing requeued, nothing counted, applied once. */
static void test_store_busy(void)
{
    struct mem *s = mem_new();
    struct svc v = {.busy_calls = 2};
    size_t a = add_event(s, EVENT_ORDER_PLACED, "o1", NULL);
    size_t b = add_event(s, EVENT_ORDER_PLACED, "o2", NULL);
    run(s, &v, 64);
    CHECK_ACKED(s->msgs[a]);
    CHECK_ACKED(s->msgs[b]);
    CHECK(s->msgs[a].requeued == 0 && s->msgs[b].requeued == 0);
    CHECK(v.calls == 3 && v.nseen == 2);
    mem_free(s);

    /* Unavailable (a fault, a stop): the batch is requeued, applied later. */
    s = mem_new();
    struct svc w = {.unavailable_calls = 1};
    a = add_event(s, EVENT_ORDER_PLACED, "o3", NULL);
    run(s, &w, 64);
    CHECK_ACKED(s->msgs[a]);
    CHECK(s->msgs[a].requeued == 1 && w.nseen == 1 && w.applied[0] == 1);
    mem_free(s);
}

/* A message that cannot be copied (undecodable, or the dead-letter publish
 * refused) is rejected, for the broker to dead-letter; an undecodable one
 * also ends its link, and the next takes one message at a time. */
static void test_rejected(void)
{
    struct mem *s = mem_new();
    struct svc v = {0};
    size_t a = add_event(s, EVENT_ORDER_PLACED, "o1", NULL);
    size_t u = add_raw(s, "");
    s->msgs[u].undecodable = true;
    snprintf(s->msgs[u].refused, sizeof s->msgs[u].refused, "properties: undecodable");
    size_t b = add_event(s, EVENT_ORDER_PLACED, "o2", NULL);
    run(s, &v, 64);
    CHECK_ACKED(s->msgs[a]);
    CHECK_ACKED(s->msgs[b]);
    CHECK(s->msgs[u].rejected == 1 && s->msgs[u].acked == 0 && s->msgs[u].dead == 0);
    CHECK(s->opens == 2 && s->last_prefetch == 1);
    mem_free(s);

    s = mem_new();
    s->dead_letters_fail = true;
    size_t bad = add_raw(s, "[]");
    size_t c = add_event(s, EVENT_ORDER_PLACED, "o3", NULL);
    struct svc w = {0};
    run(s, &w, 64);
    CHECK(s->msgs[bad].rejected == 1 && s->msgs[bad].acked == 0);
    CHECK_ACKED(s->msgs[c]);
    mem_free(s);
}

int main(void)
{
    test_mixed_batch();
    test_poison();
    test_store_busy();
    test_rejected();
    return check_summary("test_amqp_consume");
}
