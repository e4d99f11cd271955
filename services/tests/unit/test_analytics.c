/* Analytics output depends only on the set of events: the same events in any
 * order, with duplicates, give the same bytes; the rates are exact. */
#include <stdlib.h>
#include <unistd.h>

#include "domain/workload.h"
#include "store/analytics_store.h"
#include "check.h"

struct add_job {
    struct analytics_store *s;
    const struct event *ev;
    int n;
    const int *order;
};

static int add_all(void *arg)
{
    struct add_job *j = arg;
    for (int i = 0; i < j->n; i++)
        if (analytics_add_locked(j->s, &j->ev[j->order[i]]) < 0)
            return -1;
    return 0;
}

/* Renders the metrics of the events taken in `order` into a fresh database. */
static char *render(const struct event *ev, const int *order, int n, const char *dir, int k)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a%d.db", dir, k);
    struct db db;
    struct analytics_store s;
    CHECK(db_open(&db, path) == 0 && analytics_store_open(&s, &db) == 0);
    struct add_job j = {&s, ev, n, order};
    CHECK(db_transact(&db, add_all, &j) == 0);
    struct buf b = {0};
    CHECK(analytics_render(&s, &b) == 0);
    analytics_store_close(&s);
    db_close(&db);
    return buf_take(&b, NULL);
}

struct one {
    struct analytics_store *s;
    const struct event *ev;
    int verdict;
};

static int add_one(void *arg)
{
    struct one *o = arg;
    o->verdict = analytics_add_locked(o->s, o->ev);
    return o->verdict < 0 ? -1 : 0;
}

static int verdict(struct db *db, struct analytics_store *s, const struct event *ev)
{
    struct one o = {s, ev, -1};
    CHECK(db_transact(db, add_one, &o) == 0);
    return o.verdict;
}

/* A duplicate is the same event_id, type and order_id; the same event_id
 * with other content, or an outcome opposite to the counted one, is a
 * conflict: reported, and nothing changes. */
static void test_conflicts(const struct event *placed, const struct event *outcome, const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/conflicts.db", dir);
    struct db db;
    struct analytics_store s;
    CHECK(db_open(&db, path) == 0 && analytics_store_open(&s, &db) == 0);
    CHECK(verdict(&db, &s, placed) == ANALYTICS_ADDED);
    CHECK(verdict(&db, &s, placed) == ANALYTICS_DUPLICATE);
    struct event other = *placed;
    snprintf(other.order.order_id, sizeof other.order.order_id, "%s", "another-order");
    CHECK(verdict(&db, &s, &other) == ANALYTICS_CONFLICT);
    struct event retyped = *placed;
    retyped.type = EVENT_INVENTORY_RESERVED;
    CHECK(verdict(&db, &s, &retyped) == ANALYTICS_CONFLICT);
    /* The same event_id, type and order with other content, field by field. */
    for (int how = 0; how < 5; how++) {
        struct event changed = *placed;
        if (how == 0)
            changed.order.items[0].qty = changed.order.items[0].qty % 100 + 1;
        else if (how == 1)
            changed.order.items[0].sku = (changed.order.items[0].sku + 1) % 8;
        else if (how == 2)
            changed.order.n_items = 0;
        else if (how == 3)
            changed.order.occurred_at += 60000;
        else
            snprintf(changed.order.user_id, sizeof changed.order.user_id, "%s", "someone-else");
        CHECK(verdict(&db, &s, &changed) == ANALYTICS_CONFLICT);
    }
    CHECK(verdict(&db, &s, placed) == ANALYTICS_DUPLICATE);
    CHECK(verdict(&db, &s, outcome) == ANALYTICS_ADDED);
    struct event opposite;
    event_from_order(&opposite,
                     outcome->type == EVENT_INVENTORY_RESERVED ? EVENT_INVENTORY_FAILED
                                                               : EVENT_INVENTORY_RESERVED,
                     &outcome->order, outcome->type == EVENT_INVENTORY_RESERVED ? "x" : NULL);
    CHECK(verdict(&db, &s, &opposite) == ANALYTICS_CONTRADICTION);
    CHECK(verdict(&db, &s, &opposite) == ANALYTICS_CONTRADICTION);
    CHECK(verdict(&db, &s, outcome) == ANALYTICS_DUPLICATE);
    /* The counted outcome's event_id on the opposite outcome: a conflict
     * first, whatever else is wrong with it. */
    struct event reused = opposite;
    snprintf(reused.event_id, sizeof reused.event_id, "%s", outcome->event_id);
    CHECK(verdict(&db, &s, &reused) == ANALYTICS_CONFLICT);
    struct analytics_totals t;
    CHECK(analytics_totals(&s, &t) == 0);
    CHECK(t.orders == 1 && t.reserved + t.failed == 1);
    analytics_store_close(&s);
    db_close(&db);
}

/* Events under new event_ids that say otherwise of an order than what was
 * counted for it (another user, other items, another event time) are
 * contradictions, whichever kind came first; the same kind with the same
 * content under a new id is a duplicate. Nothing of either is counted. */
static void test_other_content(const struct event *placed, const struct event *outcome,
                               const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/content.db", dir);
    struct db db;
    struct analytics_store s;
    CHECK(db_open(&db, path) == 0 && analytics_store_open(&s, &db) == 0);
    for (int first = 0; first < 2; first++) {
        /* first 0: the order, then its outcome; 1: the outcome alone. */
        struct event p = *placed, o = *outcome;
        snprintf(p.order.order_id, sizeof p.order.order_id, "content-%d", first);
        o.order = p.order;
        snprintf(p.event_id, sizeof p.event_id, "p-%d", first);
        snprintf(o.event_id, sizeof o.event_id, "o-%d", first);
        if (first == 0)
            CHECK(verdict(&db, &s, &p) == ANALYTICS_ADDED);
        CHECK(verdict(&db, &s, &o) == ANALYTICS_ADDED);
        for (int how = 0; how < 5; how++) {
            for (int kind = 0; kind < 2; kind++) {
                struct event e = kind ? o : p;
                snprintf(e.event_id, sizeof e.event_id, "x-%d-%d-%d", first, how, kind);
                if (how == 0)
                    e.order.items[0].qty = e.order.items[0].qty % 100 + 1;
                else if (how == 1)
                    e.order.items[0].sku = (e.order.items[0].sku + 1) % 8;
                else if (how == 2)
                    e.order.n_items = 0;
                else if (how == 3)
                    e.order.occurred_at += 1;
                else
                    snprintf(e.order.user_id, sizeof e.order.user_id, "%s", "someone-else");
                CHECK(verdict(&db, &s, &e) == ANALYTICS_CONTRADICTION);
            }
        }
        struct event again = o;
        snprintf(again.event_id, sizeof again.event_id, "again-%d", first);
        CHECK(verdict(&db, &s, &again) == ANALYTICS_DUPLICATE);
        again = p;
        snprintf(again.event_id, sizeof again.event_id, "again-p-%d", first);
        CHECK(verdict(&db, &s, &again) == (first == 0 ? ANALYTICS_DUPLICATE : ANALYTICS_ADDED));
        CHECK(verdict(&db, &s, &o) == ANALYTICS_DUPLICATE);
    }
    struct analytics_totals t;
    CHECK(analytics_totals(&s, &t) == 0);
    CHECK(t.orders == 2 && t.reserved + t.failed == 2);
    analytics_store_close(&s);
    db_close(&db);
}

int main(void)
{
    /* $TMPDIR first: build sandboxes (Nix) have no /tmp. */
    char dir[200];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/commlab-test-analytics.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    enum { ORDERS = 1500 };
    static struct event ev[2 * ORDERS];
    struct workload w = {.seed = 7, .sold_out_pct = 10};
    for (int i = 0; i < ORDERS; i++) {
        struct order o;
        workload_order(&w, (uint64_t)i, &o);
        event_from_order(&ev[2 * i], EVENT_ORDER_PLACED, &o, NULL);
        bool failed = o.items[0].sku == catalog_sold_out();
        for (int k = 0; k < o.n_items; k++)
            failed = failed || o.items[k].sku == catalog_sold_out();
        event_from_order(&ev[2 * i + 1], failed ? EVENT_INVENTORY_FAILED : EVENT_INVENTORY_RESERVED,
                         &o, failed ? "out_of_stock:truffle-fries" : NULL);
    }
    static int fwd[2 * ORDERS], rev[2 * ORDERS], dup[4 * ORDERS];
    for (int i = 0; i < 2 * ORDERS; i++) {
        fwd[i] = i;
        rev[i] = 2 * ORDERS - 1 - i;
        dup[2 * i] = dup[2 * i + 1] = (i * 7919) % (2 * ORDERS); /* every event twice */
    }
    char *a = render(ev, fwd, 2 * ORDERS, dir, 1);
    char *b = render(ev, rev, 2 * ORDERS, dir, 2);
    char *c = render(ev, dup, 4 * ORDERS, dir, 3);
    CHECK_STR(b, a);
    CHECK_STR(c, a);
    CHECK(a && strstr(a, "\"orders\":1500,") != NULL);
    /* 1500 orders at 600 a minute of event time: three minutes. */
    CHECK(a && strstr(a, "\"minute\":\"2026-02-18T11:30Z\"") != NULL);
    CHECK(a && strstr(a, "\"minute\":\"2026-02-18T11:32Z\"") != NULL);
    free(a);
    free(b);
    free(c);
    test_conflicts(&ev[0], &ev[1], dir);
    test_other_content(&ev[0], &ev[1], dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_summary("test_analytics");
}
