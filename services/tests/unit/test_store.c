#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/dump.h"
#include "store/notify_store.h"
#include "store/order_store.h"
#include "store/outbox.h"
#include "store/outbox_relay.h"
#include "store/seen_store.h"
#include "store/stock_store.h"
#include "check.h"

static char dir[200];

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static struct order make_order(const char *id, const char *items)
{
    struct order o = {0};
    snprintf(o.order_id, sizeof o.order_id, "%s", id);
    snprintf(o.user_id, sizeof o.user_id, "u1");
    o.occurred_at = 1771414200000;
    if (order_items_parse(&o, items) != 0)
        abort();
    return o;
}

static struct event make_event(const char *event_id, enum event_type t, const char *order_id)
{
    struct event ev = {0};
    ev.type = t;
    snprintf(ev.event_id, sizeof ev.event_id, "%s", event_id);
    snprintf(ev.order.order_id, sizeof ev.order.order_id, "%s", order_id);
    return ev;
}

/* A duplicate is the same event_id, type and order_id; the same id with any
 * other content is a conflict and records nothing. */
static int seen_twice(void *arg)
{
    struct event e1 = make_event("e1", EVENT_ORDER_PLACED, "o1");
    struct event other_order = make_event("e1", EVENT_ORDER_PLACED, "o2");
    struct event other_type = make_event("e1", EVENT_INVENTORY_RESERVED, "o1");
    struct event e2 = make_event("e2", EVENT_ORDER_PLACED, "o1");
    char why[128] = "";
    CHECK(seen_claim_locked(arg, &e1, why, sizeof why) == SEEN_NEW);
    CHECK(seen_claim_locked(arg, &e1, why, sizeof why) == SEEN_DUPLICATE);
    CHECK(seen_claim_locked(arg, &other_order, why, sizeof why) == SEEN_CONFLICT);
    CHECK_STR(why, "event_id e1 was OrderPlaced for order o1");
    CHECK(seen_claim_locked(arg, &other_type, NULL, 0) == SEEN_CONFLICT);
    CHECK(seen_claim_locked(arg, &e1, NULL, 0) == SEEN_DUPLICATE);
    CHECK(seen_claim_locked(arg, &e2, NULL, 0) == SEEN_NEW);
    /* A claim taken back (the event contradicted what it was about): the
     * same id with other content is new again, not a conflict. */
    struct event forged = make_event("e3", EVENT_INVENTORY_RESERVED, "o1");
    snprintf(forged.order.user_id, sizeof forged.order.user_id, "%s", "u-forged");
    struct event real = make_event("e3", EVENT_INVENTORY_RESERVED, "o1");
    CHECK(seen_claim_locked(arg, &forged, NULL, 0) == SEEN_NEW);
    CHECK(seen_forget_locked(arg, "e3") == 0);
    CHECK(seen_claim_locked(arg, &real, NULL, 0) == SEEN_NEW);
    CHECK(seen_claim_locked(arg, &real, NULL, 0) == SEEN_DUPLICATE);
    CHECK(seen_claim_locked(arg, &forged, NULL, 0) == SEEN_CONFLICT);
    CHECK(seen_forget_locked(arg, "never-seen") == 0);
    return 0;
}

/* The same event_id, type and order_id with other content, one field at a
 * time: each a conflict, and the original still a duplicate after. */
static void vary(struct event *ev, int how)
{
    switch (how) {
    case 0:
        ev->order.items[0].qty = 2;
        break; /* other quantity */
    case 1:
        ev->order.items[0].sku = 1;
        break; /* other SKU */
    case 2:
        order_add_item(&ev->order, 5, 1);
        break; /* one item more */
    case 3:
        ev->order.n_items = 0;
        break; /* no items */
    case 4:
        snprintf(ev->order.user_id, sizeof ev->order.user_id, "u2");
        break;
    case 5:
        ev->order.occurred_at += 1;
        break; /* one ms later */
    case 6:
        snprintf(ev->reason, sizeof ev->reason, "out_of_stock:fries");
        break;
    }
}

static int seen_other_content(void *arg)
{
    struct event base = make_event("c1", EVENT_ORDER_PLACED, "oc");
    snprintf(base.order.user_id, sizeof base.order.user_id, "u1");
    base.order.occurred_at = 1771416000000;
    order_add_item(&base.order, 0, 1);
    order_add_item(&base.order, 3, 2);
    char why[160] = "";
    CHECK(seen_claim_locked(arg, &base, why, sizeof why) == SEEN_NEW);
    for (int how = 0; how < 7; how++) {
        struct event other = base;
        vary(&other, how);
        CHECK(event_digest(&other) != event_digest(&base));
        CHECK(seen_claim_locked(arg, &other, why, sizeof why) == SEEN_CONFLICT);
        CHECK_STR(why, "event_id c1 was OrderPlaced for order oc with other content");
        CHECK(seen_claim_locked(arg, &base, NULL, 0) == SEEN_DUPLICATE);
    }
    /* The same items added in another order: the same event. */
    struct event same = make_event("c1", EVENT_ORDER_PLACED, "oc");
    snprintf(same.order.user_id, sizeof same.order.user_id, "u1");
    same.order.occurred_at = base.order.occurred_at;
    order_add_item(&same.order, 3, 2);
    order_add_item(&same.order, 0, 1);
    CHECK(seen_claim_locked(arg, &same, NULL, 0) == SEEN_DUPLICATE);
    return 0;
}

struct orders_job {
    struct order_store *os;
    struct outbox *ob;
    struct order_record *rec;
};

struct move_job {
    struct order_store *os;
    const char *order_id;
    enum order_status to;
    const char *detail;
};

static int move_job(void *arg)
{
    struct move_job *j = arg;
    return (int)order_move_locked(j->os, j->order_id, j->to, j->detail, NULL);
}

static int move(struct db *db, struct order_store *os, const char *order_id, enum order_status to,
                const char *detail)
{
    struct move_job j = {os, order_id, to, detail};
    return db_transact(db, move_job, &j);
}

struct mark_job {
    struct outbox *ob;
    int64_t seq;
};

static int mark_job(void *arg)
{
    struct mark_job *j = arg;
    return outbox_mark_row_sent_locked(j->ob, j->seq);
}

static int mark_sent(struct db *db, struct outbox *ob, int64_t seq)
{
    struct mark_job j = {ob, seq};
    return db_transact(db, mark_job, &j);
}

static int add_other(void *arg)
{
    return outbox_add_locked(arg, "ev-o1", "elsewhere", "o1", "{}") == 1 ? 0 : -1;
}

static int insert_two(void *arg)
{
    struct orders_job *j = arg;
    struct order z = make_order("z9", "wrap:1"), a = make_order("a1", "soda:2");
    CHECK(order_insert_locked(j->os, &z, ORDER_ACCEPTED, NULL) == 1);
    CHECK(outbox_add_locked(j->ob, "ev-z9", "order-events", "z9", "{}") == 1);
    CHECK(order_insert_locked(j->os, &a, ORDER_ACCEPTED, NULL) == 1);
    CHECK(outbox_add_locked(j->ob, "ev-a1", "order-events", "a1", "{\"x\":1}") == 1);
    CHECK(outbox_add_locked(j->ob, "ev-a1", "order-events", "a1", "{\"x\":1}") == 0);
    CHECK(order_insert_locked(j->os, &a, ORDER_ACCEPTED, j->rec) == 0);
    return 0;
}

static void test_stock(void)
{
    char path[512];
    path_of(path, sizeof path, "inventory.db");
    long initial[16];
    char err[128];
    CHECK(stock_parse_spec("burger=3,fries=1", initial, err, sizeof err) == 0);
    CHECK(stock_parse_spec("caviar=3", initial, err, sizeof err) != 0);
    CHECK(stock_parse_spec("burger=-1", initial, err, sizeof err) != 0);
    CHECK(stock_parse_spec("burger=3,fries=1", initial, err, sizeof err) == 0);
    struct db db;
    struct stock_store s;
    CHECK(db_open(&db, path) == 0 && stock_store_open(&s, &db, initial) == 0);

    struct reserve_result r;
    struct order a = make_order("a", "burger:2,fries:1");
    CHECK(stock_reserve(&s, &a, &r) == 0 && r.reserved && !r.duplicate);
    CHECK(stock_reserve(&s, &a, &r) == 0 && r.reserved && r.duplicate); /* moves nothing */
    long lv[16];
    CHECK(stock_levels(&s, lv) == 0);
    CHECK(lv[catalog_index("burger")] == 1 && lv[catalog_index("fries")] == 0);

    /* All or nothing: burger is there, fries is not, so neither moves. */
    struct order b = make_order("b", "burger:1,fries:1");
    CHECK(stock_reserve(&s, &b, &r) == 0 && !r.reserved);
    CHECK_STR(r.reason, "out_of_stock:fries");
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_index("burger")] == 1);
    /* The refusal is the first answer too. */
    CHECK(stock_reserve(&s, &b, &r) == 0 && !r.reserved && r.duplicate);
    struct order c = make_order("c", "truffle-fries:1");
    CHECK(stock_reserve(&s, &c, &r) == 0 && !r.reserved);
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_sold_out()] == 0);

    /* Reopening keeps the stock: seeding applies to new SKUs only. */
    stock_store_close(&s);
    db_close(&db);
    CHECK(db_open(&db, path) == 0 && stock_store_open(&s, &db, NULL) == 0);
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_index("burger")] == 1);

    struct seen_store seen;
    CHECK(seen_store_open(&seen, &db) == 0);
    CHECK(db_transact(&db, seen_twice, &seen) == 0);
    CHECK(db_transact(&db, seen_other_content, &seen) == 0);
    seen_store_close(&seen);
    stock_store_close(&s);
    db_close(&db);
}

static void test_release(void)
{
    char path[512];
    path_of(path, sizeof path, "release.db");
    long initial[16];
    char err[128];
    CHECK(stock_parse_spec("burger=3,fries=2", initial, err, sizeof err) == 0);
    struct db db;
    struct stock_store s;
    CHECK(db_open(&db, path) == 0 && stock_store_open(&s, &db, initial) == 0);
    long lv[16];
    struct reserve_result r;
    enum release_outcome out;

    /* Reserved, then released: the stock is back, once however often asked. */
    struct order a = make_order("a", "burger:2,fries:1");
    CHECK(stock_reserve(&s, &a, &r) == 0 && r.reserved);
    CHECK(stock_release(&s, "a", &out) == 0 && out == RELEASE_RESTORED);
    CHECK(stock_levels(&s, lv) == 0);
    CHECK(lv[catalog_index("burger")] == 3 && lv[catalog_index("fries")] == 2);
    CHECK(stock_release(&s, "a", &out) == 0 && out == RELEASE_NOTHING_HELD);
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_index("burger")] == 3);
    /* A repeat of its /reserve is answered from the record: refused, no move. */
    CHECK(stock_reserve(&s, &a, &r) == 0 && !r.reserved && r.duplicate);
    CHECK_STR(r.reason, "released");
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_index("burger")] == 3);

    /* Released before its /reserve arrived: the late /reserve moves nothing. */
    struct order b = make_order("b", "burger:1");
    CHECK(stock_release(&s, "b", &out) == 0 && out == RELEASE_BARRED);
    CHECK(stock_reserve(&s, &b, &r) == 0 && !r.reserved && r.duplicate);
    CHECK_STR(r.reason, "released_before_reserve");
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_index("burger")] == 3);

    /* A refused order held nothing, and stays refused. */
    struct order c = make_order("c", "burger:9");
    CHECK(stock_reserve(&s, &c, &r) == 0 && !r.reserved);
    CHECK(stock_release(&s, "c", &out) == 0 && out == RELEASE_NOTHING_HELD);
    CHECK(stock_reserve(&s, &c, &r) == 0 && !r.reserved);
    CHECK_STR(r.reason, "out_of_stock:burger");
    CHECK(stock_levels(&s, lv) == 0 && lv[catalog_index("burger")] == 3);
    stock_store_close(&s);
    db_close(&db);
}

static void test_orders_outbox_dump(void)
{
    char path[512];
    path_of(path, sizeof path, "order.db");
    struct db db;
    struct order_store os;
    struct outbox ob;
    CHECK(db_open(&db, path) == 0 && order_store_open(&os, &db) == 0 && outbox_open(&ob, &db) == 0);
    struct order_record rec;
    struct orders_job job = {&os, &ob, &rec};
    CHECK(db_transact(&db, insert_two, &job) == 0);
    CHECK_STR(rec.status, "accepted");
    CHECK(move(&db, &os, "a1", ORDER_CONFIRMED, "notified") == ORDER_MOVE_DONE);
    CHECK(order_get(&os, "a1", &rec) == 1);
    CHECK_STR(rec.detail, "notified");
    /* The store enforces the transitions: a confirmed order stays confirmed. */
    CHECK(move(&db, &os, "a1", ORDER_REJECTED, "out_of_stock:burger") == ORDER_MOVE_REFUSED);
    CHECK(move(&db, &os, "nope", ORDER_CONFIRMED, "") == ORDER_MOVE_UNKNOWN);
    CHECK(order_get(&os, "a1", &rec) == 1);
    CHECK_STR(rec.status, "confirmed");
    CHECK_STR(rec.detail, "notified");
    CHECK(order_get(&os, "nope", &rec) == 0);

    CHECK(outbox_backlog(&ob, NULL) == 2);
    struct outbox_row rows[4];
    size_t n;
    CHECK(outbox_pending(&ob, NULL, rows, 4, &n) == 0 && n == 2);
    CHECK_STR(rows[0].key, "z9"); /* publication order is insertion order */
    CHECK(mark_sent(&db, &ob, rows[0].seq) == 0);
    outbox_rows_free(rows, n);
    CHECK(outbox_backlog(&ob, NULL) == 1);
    CHECK(outbox_backlog(&ob, "order-events") == 1);

    /* A destination is read and marked on its own: another one's rows stay. */
    CHECK(db_transact(&db, add_other, &ob) == 0);
    CHECK(outbox_backlog(&ob, "elsewhere") == 1 && outbox_backlog(&ob, NULL) == 2);
    CHECK(outbox_pending(&ob, "elsewhere", rows, 4, &n) == 0 && n == 1);
    CHECK_STR(rows[0].key, "o1");
    CHECK(mark_sent(&db, &ob, rows[0].seq) == 0);
    outbox_rows_free(rows, n);
    CHECK(outbox_backlog(&ob, "elsewhere") == 0);
    CHECK(outbox_backlog(&ob, "order-events") == 1);

    struct buf out = {0};
    CHECK(dump_database(path, &out) == 0);
    char *text = buf_take(&out, NULL);
    CHECK_STR(text, "orders\ta1\tu1\t2026-02-18T11:30:00.000Z\tsoda:2\tconfirmed\tnotified\n"
                    "orders\tz9\tu1\t2026-02-18T11:30:00.000Z\twrap:1\taccepted\t\n");
    free(text);
    outbox_close(&ob);
    order_store_close(&os);
    db_close(&db);
}

static void test_notify(void)
{
    char path[512];
    path_of(path, sizeof path, "notification.db");
    struct db db;
    struct notify_store ns;
    CHECK(db_open(&db, path) == 0 && notify_store_open(&ns, &db) == 0);
    struct order o = make_order("o1", "burger:1,soda:2");
    bool dup;
    char msg[NOTIFY_MESSAGE_MAX];
    CHECK(notify_record(&ns, &o, &dup, msg) == 0 && !dup);
    CHECK_STR(msg, "Hi u1, order o1 is confirmed: 1x burger, 2x soda");
    CHECK(notify_record(&ns, &o, &dup, msg) == 0 && dup);
    struct buf out = {0};
    CHECK(dump_database(path, &out) == 0);
    char *text = buf_take(&out, NULL);
    CHECK_STR(text, "notifications\to1\tu1\tHi u1, order o1 is confirmed: 1x burger, 2x soda\n");
    free(text);
    notify_store_close(&ns);
    db_close(&db);
    CHECK(dump_database("/nonexistent/dir/x.db", &out) != 0);
    buf_free(&out);
}

/* Group commit: many threads at once, each job durable when its call returns,
 * and a failing job undone without touching the others in its group. */
struct group_arg {
    struct stock_store *s;
    int index;
    int result;
};

static int fail_after_reserving(void *arg)
{
    struct group_arg *g = arg;
    struct order o = make_order("doomed", "burger:1");
    struct reserve_result r;
    stock_reserve_locked(g->s, &o, &r);
    return 7; /* undo it */
}

static void *group_worker(void *arg)
{
    struct group_arg *g = arg;
    for (int k = 0; k < 50; k++) {
        char id[32];
        snprintf(id, sizeof id, "t%d-%d", g->index, k);
        struct order o = make_order(id, "coffee:1");
        struct reserve_result r;
        if (g->index == 0 && k == 25)
            g->result |= db_transact(g->s->db, fail_after_reserving, g) != 7;
        g->result |= stock_reserve(g->s, &o, &r) != 0 || !r.reserved;
    }
    return NULL;
}

static void test_group_commit(void)
{
    char path[512];
    path_of(path, sizeof path, "group.db");
    struct db db;
    struct stock_store s;
    CHECK(db_open(&db, path) == 0 && stock_store_open(&s, &db, NULL) == 0);
    pthread_t th[8];
    struct group_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct group_arg){&s, i, 0};
        CHECK(pthread_create(&th[i], NULL, group_worker, &args[i]) == 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].result == 0);
    }
    long lv[16];
    CHECK(stock_levels(&s, lv) == 0);
    CHECK(lv[catalog_index("coffee")] == CATALOG_DEFAULT_STOCK - 400);
    CHECK(lv[catalog_index("burger")] == CATALOG_DEFAULT_STOCK); /* the failed job left nothing */
    CHECK(db.jobs == 402 && db.groups >= 1 && db.groups <= db.jobs);
    printf("group commit: %lu jobs in %lu commits\n", db.jobs, db.groups);
    stock_store_close(&s);
    db_close(&db);
}

/* A job whose error makes SQLite roll back the whole transaction (here
 * SQLITE_FULL: the database may not grow) must take the rest of its group
 * with it: whatever each job is told, its row is there exactly when it was
 * told it committed. */
struct sql_job {
    struct db *db;
    const char *sql; /* NULL: the leader, waiting for the gate */
    int result;
    pthread_t th;
};

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static int run_sql(void *arg)
{
    struct sql_job *j = arg;
    if (!j->sql) { /* hold the committer's seat until the next group is queued */
        pthread_mutex_lock(&gate_mu);
        while (!gate_open)
            pthread_cond_wait(&gate_cv, &gate_mu);
        pthread_mutex_unlock(&gate_mu);
        return 0;
    }
    return sqlite3_exec(j->db->h, j->sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void *submit(void *arg)
{
    struct sql_job *j = arg;
    j->result = db_transact(j->db, run_sql, j);
    return NULL;
}

static void wait_queued(struct db *db, size_t n)
{
    for (;;) {
        pthread_mutex_lock(&db->queue_mu);
        size_t q = db->queued;
        pthread_mutex_unlock(&db->queue_mu);
        if (q >= n)
            return;
        usleep(1000);
    }
}

static long rows_with(struct db *db, const char *tag)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE tag='%s'", tag);
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_group_rollback(void)
{
    char path[512];
    path_of(path, sizeof path, "full.db");
    struct db db;
    CHECK(db_open(&db, path) == 0);
    /* With a rollback journal, SQLITE_FULL rolls the whole transaction back. */
    CHECK(db_exec(&db, "PRAGMA journal_mode=DELETE") == 0);
    CHECK(db_exec(&db, "CREATE TABLE t(tag TEXT, pad BLOB)") == 0);
    CHECK(db_exec(&db, "PRAGMA max_page_count=8") == 0);
    struct sql_job leader = {&db, NULL, -2, 0};
    struct sql_job jobs[] = {
        {&db, "INSERT INTO t VALUES('before', x'00')", -2, 0},
        {&db, "INSERT INTO t VALUES('full', zeroblob(1000000))", -2, 0},
        {&db, "INSERT INTO t VALUES('after', x'00')", -2, 0},
        {&db, "INSERT INTO t VALUES('last', x'00')", -2, 0},
    };
    enum { NJOBS = sizeof jobs / sizeof jobs[0] };
    CHECK(pthread_create(&leader.th, NULL, submit, &leader) == 0);
    for (;;) { /* the leader is inside its transaction */
        pthread_mutex_lock(&db.queue_mu);
        int busy = db.committing;
        pthread_mutex_unlock(&db.queue_mu);
        if (busy)
            break;
        usleep(1000);
    }
    for (size_t i = 0; i < NJOBS; i++) { /* queued in this order: one group */
        CHECK(pthread_create(&jobs[i].th, NULL, submit, &jobs[i]) == 0);
        wait_queued(&db, i + 1);
    }
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    pthread_join(leader.th, NULL);
    CHECK(leader.result == 0);
    const char *tags[] = {"before", "full", "after", "last"};
    for (size_t i = 0; i < NJOBS; i++) {
        pthread_join(jobs[i].th, NULL);
        long n = rows_with(&db, tags[i]);
        if ((jobs[i].result == 0) != (n == 1))
            fprintf(stderr, "job '%s': result %d, %ld rows\n", tags[i], jobs[i].result, n);
        CHECK((jobs[i].result == 0) == (n == 1));
        CHECK(n == 0);
    }
    CHECK(sqlite3_get_autocommit(db.h)); /* no transaction left open */
    db_close(&db);
}

/* The outbox relay: rows of its destination only, in order; the delivered
 * prefix marked sent together with the transport's bookkeeping; the rest
 * retried until delivered. */
struct fake_transport {
    pthread_mutex_t mu;
    int fail_at; /* refuse the row with this index of each round (-1: none) */
    int rounds, settled;
    char seen[64][16]; /* keys in delivery order */
    int nseen;
};

/* Keys the fake far side refuses: for good ("bad..."), or for now the first
 * two times ("busy..."). */
static int fake_deliver(void *ctx, struct worker *w, struct outbox_row *rows, size_t n)
{
    (void)w;
    struct fake_transport *t = ctx;
    pthread_mutex_lock(&t->mu);
    t->rounds++;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if ((int)i == t->fail_at) {
            rc = -1; /* the transport broke: the rest stay untried */
            break;
        }
        if (outbox_row_held(rows, i))
            continue;
        if (strncmp(rows[i].key, "bad", 3) == 0) {
            rows[i].fate = OUTBOX_REFUSED;
            snprintf(rows[i].why, sizeof rows[i].why, "HTTP 422: refused %s", rows[i].key);
        } else if (strncmp(rows[i].key, "busy", 4) == 0 && rows[i].attempts < 2) {
            rows[i].fate = OUTBOX_DEFERRED;
            snprintf(rows[i].why, sizeof rows[i].why, "HTTP 503");
        } else {
            rows[i].fate = OUTBOX_DELIVERED;
            if (t->nseen < 64)
                snprintf(t->seen[t->nseen++], sizeof t->seen[0], "%s", rows[i].key);
        }
    }
    t->fail_at = -1; /* the far side is back */
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static int fake_settle(void *ctx, const struct outbox_row *rows, size_t n)
{
    (void)rows;
    struct fake_transport *t = ctx;
    pthread_mutex_lock(&t->mu);
    t->settled += (int)n;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

static int add_rows(void *arg)
{
    struct outbox *ob = arg;
    char id[16], key[16];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "e%d", i);
        snprintf(key, sizeof key, "k%d", i);
        if (outbox_add_locked(ob, id, i % 3 == 2 ? "other" : "mine", key, "{}") != 1)
            return -1;
    }
    return 0;
}

static void test_outbox_relay(void)
{
    char path[512];
    path_of(path, sizeof path, "relay.db");
    struct db db;
    struct outbox ob;
    CHECK(db_open(&db, path) == 0 && outbox_open(&ob, &db) == 0);
    struct metrics *m = metrics_new("test");
    CHECK(db_transact(&db, add_rows, &ob) == 0);
    struct fake_transport t = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_at = 2};
    static const struct outbox_relay_ops ops = {.deliver = fake_deliver,
                                                .settle_locked = fake_settle};
    const struct outbox_relay_config cfg = {.name = "test relay",
                                            .destination = "mine",
                                            .batch = 8,
                                            .idle_ms = 10,
                                            .backoff_min_ms = 5,
                                            .backoff_max_ms = 20,
                                            .metric = OUTBOX_RELAY_METRICS("test")};
    struct outbox_relay r = {0};
    CHECK(outbox_relay_start(&r, &cfg, &ops, &t, &ob, m) == 0);
    for (int i = 0; i < 500 && outbox_backlog(&ob, "mine") != 0; i++)
        usleep(2000);
    outbox_relay_stop(&r);
    CHECK(outbox_backlog(&ob, "mine") == 0);
    CHECK(outbox_backlog(&ob, "other") == 2); /* not its destination */
    CHECK(t.rounds >= 2);                     /* the refused row came again */
    CHECK(t.nseen == 4 && t.settled == 4);    /* each row delivered and settled once */
    const char *order[] = {"k0", "k1", "k3", "k4"};
    for (int i = 0; i < 4 && i < t.nseen; i++)
        CHECK_STR(t.seen[i], order[i]);
    size_t len;
    char *text = metrics_render(m, &len);
    CHECK(text && strstr(text, "commlab_test_delivery_failures_total"));
    CHECK(text && strstr(text, "commlab_test_backlog"));
    free(text);
    metrics_free(m);
    outbox_close(&ob);
    db_close(&db);
}

/* 40 rows of one destination: one refused for good in the middle ("bad"),
 * one refused for now twice ("busy", followed later by a second row of the
 * same order), the rest fine. */
static int add_many(void *arg)
{
    struct outbox *ob = arg;
    char id[16], key[16];
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "m%d", i);
        if (i == 20)
            snprintf(key, sizeof key, "bad20");
        else if (i == 5 || i == 30)
            snprintf(key, sizeof key, "busy5");
        else
            snprintf(key, sizeof key, "k%d", i);
        if (outbox_add_locked(ob, id, "mine", key, i == 30 ? "{\"second\":1}" : "{}") != 1)
            return -1;
    }
    return 0;
}

/* A refused row holds up nothing but its own order: the refused-for-good row
 * is set aside with its reason (/dump, /metrics) and the 39 others are
 * delivered; the busy order's second row comes only after its first. */
static void test_outbox_relay_refusals(void)
{
    char path[512];
    path_of(path, sizeof path, "refusals.db");
    struct db db;
    struct outbox ob;
    CHECK(db_open(&db, path) == 0 && outbox_open(&ob, &db) == 0);
    struct metrics *m = metrics_new("test");
    CHECK(db_transact(&db, add_many, &ob) == 0);
    struct fake_transport t = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_at = -1};
    static const struct outbox_relay_ops ops = {.deliver = fake_deliver,
                                                .settle_locked = fake_settle};
    const struct outbox_relay_config cfg = {.name = "test relay",
                                            .destination = "mine",
                                            .batch = 16,
                                            .idle_ms = 10,
                                            .backoff_min_ms = 5,
                                            .backoff_max_ms = 300,
                                            .metric = OUTBOX_RELAY_METRICS("test")};
    struct outbox_relay r = {0};
    CHECK(outbox_relay_start(&r, &cfg, &ops, &t, &ob, m) == 0);
    for (int i = 0; i < 2000 && outbox_backlog(&ob, "mine") != 0; i++)
        usleep(2000);
    outbox_relay_stop(&r);
    CHECK(outbox_backlog(&ob, "mine") == 0);      /* nothing held behind it */
    CHECK(outbox_dead_letters(&ob, "mine") == 1); /* the refused one, set aside */
    CHECK(t.nseen == 39 && t.settled == 39);
    int first = -1, second = -1, k21 = -1;
    for (int i = 0; i < t.nseen; i++) {
        if (strcmp(t.seen[i], "busy5") == 0)
            first < 0 ? (first = i) : (second = i);
        if (strcmp(t.seen[i], "k21") == 0)
            k21 = i;
    }
    CHECK(first >= 0 && second > first); /* one order's rows in order */
    CHECK(k21 >= 0 && k21 < first);      /* other orders did not wait for it */
    struct buf out = {0};
    CHECK(dump_database(path, &out) == 0);
    char *text = buf_take(&out, NULL);
    CHECK_STR(text, "outbox_dead\tm20\tmine\tbad20\tHTTP 422: refused bad20\n");
    free(text);
    size_t len;
    text = metrics_render(m, &len);
    CHECK(text && strstr(text, "commlab_test_dead_letters{service=\"test\"} 1\n"));
    /* bad20 once, each of busy5's two rows twice */
    CHECK(text && strstr(text, "commlab_test_refused_total{service=\"test\"} 5\n"));
    free(text);
    metrics_free(m);
    outbox_close(&ob);
    db_close(&db);
}

/* Which store errors a consumer may blame on a message: a full disk, I/O, a
 * busy or locked database, no memory are nobody's (tried again unblamed);
 * a constraint or trigger (also as extended codes) may be the message's. */
static void test_error_classes(void)
{
    CHECK(db_error_is_transient(SQLITE_FULL));
    CHECK(db_error_is_transient(SQLITE_IOERR_WRITE));
    CHECK(db_error_is_transient(SQLITE_BUSY));
    CHECK(db_error_is_transient(SQLITE_LOCKED));
    CHECK(db_error_is_transient(SQLITE_NOMEM));
    CHECK(!db_error_is_transient(SQLITE_CONSTRAINT));
    CHECK(!db_error_is_transient(SQLITE_CONSTRAINT_TRIGGER));
    CHECK(!db_error_is_transient(SQLITE_MISMATCH));
    CHECK(!db_error_is_transient(SQLITE_OK));
    CHECK(!db_error_is_transient(SQLITE_DONE));
}
/* Why a transaction failed, per thread: a database that may not grow is
 * SQLITE_FULL (what a service answers 503 storage_full for), a success 0. */
static int insert_pad(void *arg)
{
    struct sql_job *j = arg;
    return sqlite3_exec(j->db->h, j->sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void test_last_error(void)
{
    char path[512];
    path_of(path, sizeof path, "last-error.db");
    struct db db;
    CHECK(db_open(&db, path) == 0);
    CHECK(db_exec(&db, "CREATE TABLE t(tag TEXT, pad BLOB)") == 0);
    CHECK(db_exec(&db, "PRAGMA max_page_count=16") == 0);
    struct sql_job big = {&db, "INSERT INTO t VALUES('big', zeroblob(1000000))", -2, 0};
    struct sql_job small = {&db, "INSERT INTO t VALUES('small', x'00')", -2, 0};
    CHECK(db_transact(&db, insert_pad, &big) != 0);
    CHECK(db_last_error() == SQLITE_FULL);
    CHECK(db_error_is_transient(db_last_error()));
    CHECK(rows_with(&db, "big") == 0);
    /* Not a full disk: the checkpoint it starts succeeds, writing goes on. */
    usleep((DB_FULL_PROBE_MS + 50) * 1000);
    CHECK(db_transact(&db, insert_pad, &small) == 0);
    CHECK(db_last_error() == 0);
    CHECK(!db_full(&db));
    CHECK(rows_with(&db, "small") == 1);
    db_close(&db);
}

int main(void)
{
    /* $TMPDIR first: build sandboxes (Nix) have no /tmp. */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/commlab-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_stock();
    test_release();
    test_orders_outbox_dump();
    test_notify();
    test_group_commit();
    test_group_rollback();
    test_last_error();
    test_outbox_relay();
    test_outbox_relay_refusals();
    test_error_classes();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_store");
}
