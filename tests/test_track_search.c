/* Tracking search: MLflow's filter grammar (valid and malformed filters,
 * with the exact offending token in the message), evaluation on hand-built
 * run infos, SQL LIKE, order_by parsing and sorting (missing and NaN last
 * both ways, MLflow's default tie-break), and end to end through the
 * public API: filters, ordering, paging, deleted runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlops/track.h"
#include "testutil.h"
#include "track/filter.h"

/* ---- hand-built runs ---------------------------------------------------- */

#define TMAX 8
typedef struct trun {
    mlops_run_info info;
    mlops_kv params[TMAX], tags[TMAX];
    mlops_metric_latest metrics[TMAX];
} trun;

static void t_init(trun *t, const char *id, int64_t start)
{
    memset(t, 0, sizeof *t);
    snprintf(t->info.run_id, sizeof t->info.run_id, "%s", id);
    snprintf(t->info.experiment_id, sizeof t->info.experiment_id, "1");
    t->info.start_time = start;
    t->info.status = MLOPS_RUN_RUNNING;
    t->info.params = t->params;
    t->info.tags = t->tags;
    t->info.metrics = t->metrics;
}

/* Inserts keeping key order, as track.h promises for real infos. */
static void kv_add(mlops_kv *kv, size_t *n, char *key, char *value)
{
    size_t i = *n;
    ck_assert_uint_lt(i, TMAX);
    while (i > 0 && strcmp(kv[i - 1].key, key) > 0) {
        kv[i] = kv[i - 1];
        i--;
    }
    kv[i].key = key;
    kv[i].value = value;
    (*n)++;
}

static void t_param(trun *t, char *k, char *v)
{
    kv_add(t->params, &t->info.nparams, k, v);
}

static void t_tag(trun *t, char *k, char *v)
{
    kv_add(t->tags, &t->info.ntags, k, v);
}

static void t_metric(trun *t, char *k, double v)
{
    size_t i = t->info.nmetrics;
    ck_assert_uint_lt(i, TMAX);
    while (i > 0 && strcmp(t->metrics[i - 1].key, k) > 0) {
        t->metrics[i] = t->metrics[i - 1];
        i--;
    }
    t->metrics[i].key = k;
    t->metrics[i].value = v;
    t->info.nmetrics++;
}

/* ---- parsing -------------------------------------------------------- */

static mlops__filter parse_ok(const char *f, size_t nclauses)
{
    mlops__filter out;
    int rc = mlops__filter_parse(&out, f);
    if (rc != 0)
        ck_abort_msg("filter \"%s\" failed: %s", f, mlops_error_last());
    ck_assert_uint_eq(out.n, nclauses);
    return out;
}

START_TEST(parse_empty)
{
    const char *empties[] = {NULL, "", "   ", "\t\n"};
    for (size_t i = 0; i < 4; i++) {
        mlops__filter f = parse_ok(empties[i], 0);
        mlops__filter_dispose(&f);
    }
}
END_TEST

START_TEST(parse_clause_shapes)
{
    mlops__filter f = parse_ok("metrics.acc > 0.9", 1);
    ck_assert_int_eq(f.clauses[0].kind, MLOPS__F_METRIC);
    ck_assert_str_eq(f.clauses[0].key, "acc");
    ck_assert_int_eq(f.clauses[0].op, MLOPS__OP_GT);
    ck_assert(f.clauses[0].num == 0.9);
    mlops__filter_dispose(&f);

    f = parse_ok("metric.loss<=-1.5E+2 and params.lr = '0.1' AND tags.`a b` != \"x y\"", 3);
    ck_assert_int_eq(f.clauses[0].op, MLOPS__OP_LE);
    ck_assert(f.clauses[0].num == -150.0);
    ck_assert_int_eq(f.clauses[1].kind, MLOPS__F_PARAM);
    ck_assert_str_eq(f.clauses[1].key, "lr");
    ck_assert_str_eq(f.clauses[1].str, "0.1");
    ck_assert_int_eq(f.clauses[2].kind, MLOPS__F_TAG);
    ck_assert_str_eq(f.clauses[2].key, "a b");
    ck_assert_int_eq(f.clauses[2].op, MLOPS__OP_NE);
    ck_assert_str_eq(f.clauses[2].str, "x y");
    mlops__filter_dispose(&f);

    /* keys with '.', '/', ':' and '-' in each quote style; the type in backticks */
    f = parse_ok("params.\"a.b/c:d-e\" LIKE '%x%' and `metrics`.'m-1' < .5 and tags.x.y.z ilike 'A_'", 3);
    ck_assert_str_eq(f.clauses[0].key, "a.b/c:d-e");
    ck_assert_int_eq(f.clauses[0].op, MLOPS__OP_LIKE);
    ck_assert_str_eq(f.clauses[1].key, "m-1");
    ck_assert(f.clauses[1].num == 0.5);
    ck_assert_str_eq(f.clauses[2].key, "x.y.z"); /* split at the first '.' only */
    ck_assert_int_eq(f.clauses[2].op, MLOPS__OP_ILIKE);
    mlops__filter_dispose(&f);

    /* doubled quotes inside literals and keys */
    f = parse_ok("tags.t = 'it''s' and params.`a``b` = \"say \"\"hi\"\"\"", 2);
    ck_assert_str_eq(f.clauses[0].str, "it's");
    ck_assert_str_eq(f.clauses[1].key, "a`b");
    ck_assert_str_eq(f.clauses[1].str, "say \"hi\"");
    mlops__filter_dispose(&f);
}
END_TEST

START_TEST(parse_attributes)
{
    static const struct {
        const char *filter;
        mlops__fattr attr;
        mlops__fop op;
    } cases[] = {
        {"attributes.status = 'FINISHED'", MLOPS__A_STATUS, MLOPS__OP_EQ},
        {"attribute.run_name LIKE 'x%'", MLOPS__A_RUN_NAME, MLOPS__OP_LIKE},
        {"attr.run_id != 'abc'", MLOPS__A_RUN_ID, MLOPS__OP_NE},
        {"run.user_id ILIKE 'ME'", MLOPS__A_USER_ID, MLOPS__OP_ILIKE},
        {"status = 'RUNNING'", MLOPS__A_STATUS, MLOPS__OP_EQ},
        {"start_time >= 17", MLOPS__A_START_TIME, MLOPS__OP_GE},
        {"created < 17", MLOPS__A_START_TIME, MLOPS__OP_LT},
        {"attributes.Created > 1", MLOPS__A_START_TIME, MLOPS__OP_GT},
        {"end_time != 0", MLOPS__A_END_TIME, MLOPS__OP_NE},
        {"attributes.`Run name` = 'x'", MLOPS__A_RUN_NAME, MLOPS__OP_EQ},
        {"`run name` = 'x'", MLOPS__A_RUN_NAME, MLOPS__OP_EQ},
        {"\"Run Name\" = 'x'", MLOPS__A_RUN_NAME, MLOPS__OP_EQ},
        {"run_id in ('a')", MLOPS__A_RUN_ID, MLOPS__OP_IN},
        {"attributes.run_id NOT  IN ('a', \"b\" ,'c')", MLOPS__A_RUN_ID, MLOPS__OP_NOT_IN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mlops__filter f = parse_ok(cases[i].filter, 1);
        ck_assert_int_eq(f.clauses[0].kind, MLOPS__F_ATTR);
        ck_assert_int_eq(f.clauses[0].attr, cases[i].attr);
        ck_assert_int_eq(f.clauses[0].op, cases[i].op);
        mlops__filter_dispose(&f);
    }
    mlops__filter f = parse_ok("run_id NOT IN ('a', \"b\" ,'c')", 1);
    ck_assert_uint_eq(f.clauses[0].nlist, 3);
    ck_assert_str_eq(f.clauses[0].list[1], "b");
    mlops__filter_dispose(&f);
}
END_TEST

START_TEST(parse_numbers)
{
    static const struct {
        const char *text;
        double v;
    } cases[] = {{"1", 1},       {"-1", -1},       {"+2", 2},       {"1.", 1},   {".25", .25},
                 {"1e3", 1e3},   {"1E-3", 1e-3},   {"-2.5e+2", -250}, {"0", 0}, {"123456789012", 123456789012.0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "metrics.m = %s", cases[i].text);
        mlops__filter f = parse_ok(buf, 1);
        ck_assert_msg(f.clauses[0].num == cases[i].v, "%s parsed as %g", cases[i].text, f.clauses[0].num);
        mlops__filter_dispose(&f);
    }
}
END_TEST

/* The message must name the token and where it is. */
static void parse_bad(const char *filter, const char *want)
{
    mlops__filter f;
    int rc = mlops__filter_parse(&f, filter);
    tu_assert_err(rc, MLOPS_EINVALID);
    ck_assert_uint_eq(f.n, 0);
    ck_assert_ptr_null(f.clauses);
    const char *msg = mlops_error_last();
    ck_assert_msg(strstr(msg, want) != NULL, "filter \"%s\": message \"%s\" lacks \"%s\"", filter, msg, want);
    ck_assert_msg(strncmp(msg, "filter: ", 8) == 0, "message \"%s\"", msg);
}

START_TEST(parse_errors)
{
    parse_bad("metrics.acc >> 1", "unexpected token '>>' at 12");
    parse_bad("metrics.acc <> 1", "unexpected token '<>' at 12");
    parse_bad("metrics.acc == 1", "unexpected token '==' at 12");
    parse_bad("metrics.acc > 1 OR metrics.b < 2", "OR is not supported ('OR' at 16)");
    parse_bad("metrics.acc > 1 or metrics.b < 2", "OR is not supported ('or' at 16)");
    parse_bad("foo.acc = 1", "invalid entity type 'foo' at 0");
    parse_bad("attributes.bogus = 'x'", "invalid attribute key 'bogus' at 11");
    parse_bad("bogus = 'x'", "invalid attribute key 'bogus' at 0");
    parse_bad("attributes.artifact_uri = 'x'", "'artifact_uri' is not supported");
    parse_bad("datasets.name = 'x'", "dataset clauses are not supported ('datasets' at 0)");
    parse_bad("metrics.acc = 'x'", "unexpected token ''x'' at 14 (expected a number)");
    parse_bad("metrics.acc = abc", "unexpected token 'abc' at 14 (expected a number)");
    parse_bad("metrics.acc = 1abc", "unexpected token '1abc' at 14");
    parse_bad("metrics.acc = 1.2.3", "unexpected token '1.2.3' at 14");
    parse_bad("start_time > '5'", "unexpected token ''5'' at 13 (expected a number)");
    parse_bad("params.lr = 0.1", "unexpected token '0.1' at 12 (expected a quoted string");
    parse_bad("tags.t = x", "unexpected token 'x' at 9 (expected a quoted string");
    parse_bad("metrics.acc LIKE '1'", "invalid comparator 'LIKE' for a metric at 12");
    parse_bad("params.lr > '1'", "invalid comparator '>' for a param at 10");
    parse_bad("tags.t IN ('a')", "invalid comparator 'IN' for a tag at 7");
    parse_bad("status IN ('a')", "only run_id supports 'IN'");
    parse_bad("run_name > 'a'", "invalid comparator '>' for an attribute at 9");
    parse_bad("end_time LIKE '1'", "invalid comparator 'LIKE'");
    parse_bad("params.a = 'x", "unterminated '...' starting at 11");
    parse_bad("params.`a = 'x'", "unterminated `...` starting at 7");
    parse_bad("metrics.acc > 1 and", "unexpected end at 19");
    parse_bad("metrics.acc > 1 and  ", "unexpected end at 21");
    parse_bad("metrics.acc > 1 metrics.b > 2", "unexpected token 'metrics.b' at 16 (expected AND");
    parse_bad("(metrics.a > 1)", "unexpected token '(' at 0");
    parse_bad("metrics.a > 1; metrics.b > 2", "unexpected token ';' at 13");
    parse_bad("metrics. = 1", "unexpected token '=' at 9");
    parse_bad("metrics.`` = 1", "empty key at 8");
    parse_bad("metrics.a", "unexpected end at 9 (expected a comparator");
    parse_bad("metrics.a 5", "unexpected token '5' at 10 (expected a comparator");
    parse_bad("metrics.a NOT LIKE 'x'", "unexpected token 'LIKE' at 14 (expected IN after NOT)");
    parse_bad("run_id IN 'a'", "unexpected token ''a'' at 10 (expected a parenthesised list");
    parse_bad("run_id IN ('a' 'b')", "unexpected token ''b'' at 15 (expected ',' or ')')");
    parse_bad("run_id IN ('a',)", "unexpected token ')' at 15 (expected a quoted run id)");
    parse_bad("run_id IN ('a'", "unexpected end at 14");
    parse_bad("= 1", "unexpected token '=' at 0 (expected a key");
    parse_bad("'status' = 'x'", "unexpected token ''status'' at 0");
    parse_bad("metrics.a = 1 and and", "invalid attribute key 'and' at 18");
    parse_bad("params.é = 'x'", "unexpected token 'é' at 7");
}
END_TEST

START_TEST(parse_errors_leave_no_garbage)
{
    /* every prefix of a valid multi-clause filter either parses or fails
     * cleanly (ASan/valgrind catch leaks of half-built clauses) */
    const char *full = "metrics.a > 1 and params.`p q` LIKE 'x%' and run_id IN ('a','b') and tags.t != 'z'";
    char buf[128];
    size_t n = strlen(full);
    for (size_t i = 0; i <= n; i++) {
        memcpy(buf, full, i);
        buf[i] = '\0';
        mlops__filter f;
        int rc = mlops__filter_parse(&f, buf);
        ck_assert(rc == 0 || rc == MLOPS_EINVALID);
        mlops__filter_dispose(&f);
    }
}
END_TEST

/* Every allocation of the parser failing in turn: ENOMEM, nothing leaked. */
START_TEST(parse_out_of_memory)
{
    const char *filter = "metrics.`a b` > 1 and params.p LIKE 'x%' and run_id IN ('a','b','c','d','e') and "
                         "tags.t != 'it''s' and metrics.c < 2 and status = 'RUNNING'";
    const char *order[] = {"metrics.acc DESC", "params.`p q`", "start_time"};
    int done = 0;
    for (unsigned long k = 1; !done && k < 1000; k++) {
        tu_alloc a;
        memset(&a, 0, sizeof a);
        a.fail_at = k;
        tu_alloc_install(&a);
        mlops__filter f;
        mlops__order_list o;
        int rc = mlops__filter_parse(&f, filter);
        int rc2 = rc == 0 ? mlops__order_parse(&o, order, 3) : MLOPS_ENOMEM;
        if (rc == 0)
            mlops__filter_dispose(&f);
        if (rc2 == 0)
            mlops__order_dispose(&o);
        tu_alloc_remove();
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "k=%lu rc=%d", k, rc);
        ck_assert_msg(rc2 == 0 || rc2 == MLOPS_ENOMEM, "k=%lu rc2=%d", k, rc2);
        ck_assert_int_eq(a.outstanding, 0);
        done = a.failures == 0;
        ck_assert(done == (rc == 0 && rc2 == 0));
    }
    ck_assert(done);
}
END_TEST

/* ---- LIKE --------------------------------------------------------------- */

START_TEST(like_patterns)
{
    static const struct {
        const char *text, *pattern;
        int like, ilike;
    } cases[] = {
        {"abc", "abc", 1, 1},       {"abc", "ab", 0, 0},        {"abc", "a%", 1, 1},
        {"abc", "%c", 1, 1},        {"abc", "%b%", 1, 1},       {"abc", "_b_", 1, 1},
        {"abc", "a_", 0, 0},        {"abc", "____", 0, 0},      {"", "%", 1, 1},
        {"", "", 1, 1},             {"a", "", 0, 0},            {"", "_", 0, 0},
        {"ABC", "a%c", 0, 1},       {"abc", "A_C", 0, 1},       {"a.c", "a.c", 1, 1},
        {"abc", "a.c", 0, 0},       {"a+b", "a+b", 1, 1},       {"aab", "a*b", 0, 0},
        {"héllo", "h_llo", 1, 1},   {"h\xc3\xa9", "__", 1, 1},  {"aXbXc", "%b%c", 1, 1},
        {"mississippi", "%iss%ppi", 1, 1}, {"abcab", "%ab", 1, 1}, {"ab", "%ab%ab%", 0, 0},
        {"abab", "%ab%ab%", 1, 1},  {"x", "%%%", 1, 1},         {"100%", "100%", 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(mlops__like(cases[i].text, cases[i].pattern, 0) == cases[i].like, "'%s' LIKE '%s'",
                      cases[i].text, cases[i].pattern);
        ck_assert_msg(mlops__like(cases[i].text, cases[i].pattern, 1) == cases[i].ilike, "'%s' ILIKE '%s'",
                      cases[i].text, cases[i].pattern);
    }
}
END_TEST

/* ---- evaluation ---------------------------------------------------------- */

static int matches(const char *filter, const trun *t)
{
    mlops__filter f;
    if (mlops__filter_parse(&f, filter) != 0)
        ck_abort_msg("filter \"%s\" failed: %s", filter, mlops_error_last());
    int m = mlops__filter_match(&f, &t->info);
    mlops__filter_dispose(&f);
    return m;
}

#define MATCH(f, t) ck_assert_msg(matches((f), (t)) == 1, "\"%s\" should match", (f))
#define NOMATCH(f, t) ck_assert_msg(matches((f), (t)) == 0, "\"%s\" should not match", (f))

START_TEST(eval_metrics)
{
    trun t;
    t_init(&t, "0123456789abcdef0123456789abcdef", 1000);
    t_metric(&t, "acc", 0.75);
    t_metric(&t, "loss", -2.0);
    t_metric(&t, "nan", NAN);
    t_metric(&t, "inf", INFINITY);
    t_metric(&t, "val acc", 0.5);

    MATCH("", &t);
    MATCH("metrics.acc = 0.75", &t);
    MATCH("metrics.acc != 0.7", &t);
    MATCH("metrics.acc > 0.7 and metrics.acc < 0.8", &t);
    MATCH("metrics.acc >= 0.75 and metrics.acc <= 0.75", &t);
    NOMATCH("metrics.acc > 0.75", &t);
    MATCH("metrics.loss < -1", &t);
    MATCH("metrics.inf > 1e308", &t);
    MATCH("metrics.`val acc` = .5", &t);
    NOMATCH("metrics.acc > 0.7 and metrics.loss > 0", &t);
    /* a missing key never matches, not even with != */
    NOMATCH("metrics.missing != 1", &t);
    NOMATCH("metrics.missing = 1", &t);
    NOMATCH("metrics.missing < 1e308", &t);
    /* NaN: IEEE semantics, as MLflow's FileStore compares Python floats */
    NOMATCH("metrics.nan = 0", &t);
    NOMATCH("metrics.nan < 1", &t);
    NOMATCH("metrics.nan >= -1e308", &t);
    MATCH("metrics.nan != 0", &t);
    /* params and tags are other namespaces */
    NOMATCH("params.acc = '0.75'", &t);
}
END_TEST

START_TEST(eval_params_tags)
{
    trun t;
    t_init(&t, "0123456789abcdef0123456789abcdef", 1000);
    t_param(&t, "lr", "0.01");
    t_param(&t, "model", "ResNet-50");
    t_param(&t, "a.b/c:d", "x");
    t_tag(&t, "team", "Vision");
    t_tag(&t, "note", "it's");

    MATCH("params.lr = '0.01'", &t);
    NOMATCH("params.lr = '0.010'", &t); /* strings, not numbers */
    MATCH("params.lr != '0.1'", &t);
    MATCH("params.model LIKE 'ResNet%'", &t);
    NOMATCH("params.model LIKE 'resnet%'", &t);
    MATCH("params.model ILIKE 'resnet%'", &t);
    MATCH("params.model like '%-__'", &t);
    MATCH("params.\"a.b/c:d\" = 'x'", &t);
    MATCH("tags.team = \"Vision\" and params.lr = '0.01'", &t);
    MATCH("tags.note = 'it''s'", &t);
    NOMATCH("tags.missing != 'x'", &t);
    NOMATCH("params.missing LIKE '%'", &t);
    NOMATCH("tags.lr = '0.01'", &t);
}
END_TEST

START_TEST(eval_attributes)
{
    trun t;
    t_init(&t, "0123456789abcdef0123456789abcdef", 1000);
    t.info.status = MLOPS_RUN_FINISHED;
    t.info.end_time = 2000;
    t.info.run_name = "bold-cat-7";
    t.info.user = "alice";

    MATCH("attributes.status = 'FINISHED'", &t);
    NOMATCH("status = 'finished'", &t);
    MATCH("status ILIKE 'finished'", &t);
    MATCH("status != 'FAILED'", &t);
    MATCH("run_name LIKE 'bold-%'", &t);
    MATCH("`Run name` = 'bold-cat-7'", &t);
    MATCH("user_id = 'alice'", &t);
    MATCH("start_time = 1000 and end_time > 1500 and created < 1001", &t);
    MATCH("run_id = '0123456789abcdef0123456789abcdef'", &t);
    MATCH("run_id IN ('ffff', '0123456789abcdef0123456789abcdef')", &t);
    NOMATCH("run_id IN ('ffff', '0123456789ABCDEF0123456789ABCDEF')", &t);
    NOMATCH("run_id NOT IN ('0123456789abcdef0123456789abcdef')", &t);
    MATCH("run_id NOT IN ('ffff')", &t);
    MATCH("run_id NOT IN ()", &t);
    NOMATCH("run_id IN ()", &t);

    /* a running run has no end_time, a run without name no run_name */
    t.info.status = MLOPS_RUN_RUNNING;
    t.info.end_time = 0;
    t.info.run_name = NULL;
    t.info.user = NULL;
    MATCH("status = 'RUNNING'", &t);
    NOMATCH("end_time != 5", &t);
    NOMATCH("end_time = 0", &t);
    NOMATCH("run_name != 'x'", &t);
    NOMATCH("user_id LIKE '%'", &t);
}
END_TEST

/* ---- order_by --------------------------------------------------------- */

START_TEST(order_parse_valid)
{
    const char *entries[] = {"metrics.acc DESC", "params.lr", "attributes.start_time ASC", "start_time",
                             "  tags.`my tag`   desc ", "metric.\"a b\" asc", "run_name"};
    mlops__order_list o;
    ck_assert_int_eq(mlops__order_parse(&o, entries, 7), 0);
    ck_assert_uint_eq(o.n, 7);
    ck_assert_int_eq(o.keys[0].kind, MLOPS__F_METRIC);
    ck_assert_str_eq(o.keys[0].key, "acc");
    ck_assert_int_eq(o.keys[0].descending, 1);
    ck_assert_int_eq(o.keys[1].kind, MLOPS__F_PARAM);
    ck_assert_int_eq(o.keys[1].descending, 0);
    ck_assert_int_eq(o.keys[2].kind, MLOPS__F_ATTR);
    ck_assert_int_eq(o.keys[2].attr, MLOPS__A_START_TIME);
    ck_assert_int_eq(o.keys[3].attr, MLOPS__A_START_TIME);
    ck_assert_str_eq(o.keys[4].key, "my tag");
    ck_assert_int_eq(o.keys[4].descending, 1);
    ck_assert_str_eq(o.keys[5].key, "a b");
    ck_assert_int_eq(o.keys[6].attr, MLOPS__A_RUN_NAME);
    mlops__order_dispose(&o);

    ck_assert_int_eq(mlops__order_parse(&o, NULL, 0), 0);
    ck_assert_uint_eq(o.n, 0);
    mlops__order_dispose(&o);
}
END_TEST

static void order_bad(const char *entry, const char *want)
{
    const char *entries[] = {"metrics.ok", entry};
    mlops__order_list o;
    tu_assert_err(mlops__order_parse(&o, entries, 2), MLOPS_EINVALID);
    ck_assert_uint_eq(o.n, 0);
    const char *msg = mlops_error_last();
    ck_assert_msg(strstr(msg, want) != NULL, "order_by \"%s\": message \"%s\" lacks \"%s\"", entry ? entry : "NULL",
                  msg, want);
}

START_TEST(order_parse_errors)
{
    order_bad("foo.acc DESC", "order_by 'foo.acc DESC': invalid entity type 'foo' at 0");
    order_bad("bogus", "invalid attribute key 'bogus' at 0");
    order_bad("metrics.acc UP", "unexpected token 'UP' at 12 (expected ASC or DESC)");
    order_bad("metrics.acc DESC extra", "unexpected token 'extra' at 17");
    order_bad("metrics.acc > 1", "unexpected token '>' at 12");
    order_bad("", "unexpected end at 0");
    order_bad("metrics.", "unexpected end at 8");
    order_bad(NULL, "entry 1 is NULL");
}
END_TEST

/* Sorts the runs with the order_by entries and checks the id order. */
static void check_order(trun *runs, size_t n, const char *const *order_by, size_t norder, const char *want)
{
    mlops__order_list o;
    ck_assert_int_eq(mlops__order_parse(&o, order_by, norder), 0);
    const mlops_run_info *v[16];
    for (size_t i = 0; i < n; i++)
        v[i] = &runs[i].info;
    /* insertion sort: independent of search.c's merge sort */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && mlops__order_compare(&o, v[j - 1], v[j]) > 0; j--) {
            const mlops_run_info *x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    char got[64] = "";
    for (size_t i = 0; i < n; i++)
        got[i] = v[i]->run_id[0];
    ck_assert_msg(strcmp(got, want) == 0, "order %s%s: got %s, want %s", norder ? order_by[0] : "(default)",
                  norder > 1 ? " ..." : "", got, want);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) /* a total order, antisymmetric */
            ck_assert_int_eq(mlops__order_compare(&o, v[i], v[j]) < 0, i < j);
    mlops__order_dispose(&o);
}

START_TEST(order_sorting)
{
    trun r[6];
    /* id first letters make the expected order readable */
    t_init(&r[0], "a", 100);
    t_metric(&r[0], "acc", 0.5);
    t_param(&r[0], "opt", "sgd");
    t_init(&r[1], "b", 300);
    t_metric(&r[1], "acc", NAN);
    t_param(&r[1], "opt", "adam");
    t_init(&r[2], "c", 200);
    t_metric(&r[2], "acc", 0.9);
    t_init(&r[3], "d", 200); /* no acc */
    t_param(&r[3], "opt", "sgd");
    t_init(&r[4], "e", 200);
    t_metric(&r[4], "acc", 0.5);
    t_param(&r[4], "opt", "Adam");
    t_init(&r[5], "f", 200);
    t_metric(&r[5], "acc", -INFINITY);

    /* default: start_time DESC, then run_id */
    check_order(r, 6, NULL, 0, "bcdefa");
    /* ties on acc (a, e) fall to start_time DESC; NaN then missing last */
    const char *asc[] = {"metrics.acc"};
    check_order(r, 6, asc, 1, "feacbd");
    const char *desc[] = {"metrics.acc DESC"};
    check_order(r, 6, desc, 1, "ceafbd");
    /* strings, byte order ("Adam" < "adam" < "sgd"); missing last both ways */
    const char *popt[] = {"params.opt"};
    check_order(r, 6, popt, 1, "ebdacf");
    const char *popt_desc[] = {"params.opt desc"};
    check_order(r, 6, popt_desc, 1, "dabecf");
    /* two keys: opt DESC, then acc ASC inside equal opts */
    const char *two[] = {"params.opt DESC", "metrics.acc ASC"};
    check_order(r, 6, two, 2, "adbefc");
    const char *st[] = {"attributes.start_time ASC"};
    check_order(r, 6, st, 1, "acdefb");
    const char *id_desc[] = {"run_id DESC"};
    check_order(r, 6, id_desc, 1, "fedcba");
    /* end_time: missing while running */
    r[2].info.end_time = 50;
    r[4].info.end_time = 10;
    const char *et[] = {"end_time DESC"};
    check_order(r, 6, et, 1, "cebdfa");
}
END_TEST

START_TEST(search_options)
{
    mlops_search_options o;
    memset(&o, 0x5a, sizeof o);
    ck_assert_int_eq(mlops_search_options_init(&o, MLOPS_SEARCH_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.version, MLOPS_SEARCH_OPTIONS_VERSION);
    ck_assert_ptr_null(o.filter);
    ck_assert_ptr_null(o.order_by);
    ck_assert_uint_eq(o.max_results, 0);
    ck_assert_ptr_null(o.page_token);
    ck_assert_int_eq(o.include_deleted, 0);
    tu_assert_err(mlops_search_options_init(&o, 99), MLOPS_EINVALID);
    tu_assert_err(mlops_search_options_init(NULL, MLOPS_SEARCH_OPTIONS_VERSION), MLOPS_EINVALID);
}
END_TEST

/* ---- end to end --------------------------------------------------------- */

#define OK(expr)                                                                      \
    do {                                                                              \
        int ok_rc_ = (expr);                                                          \
        ck_assert_msg(ok_rc_ == 0, "%s: %d %s", #expr, ok_rc_, mlops_error_last());   \
    } while (0)

#define NRUNS 12
typedef struct e2e {
    tu_store t;
    char exp_a[MLOPS_EXPERIMENT_ID_MAX + 1], exp_b[MLOPS_EXPERIMENT_ID_MAX + 1];
    char ids[NRUNS][MLOPS_RUN_ID_HEXSZ + 1]; /* runs of exp_a; ids[i] started at 1000 + i */
} e2e;

/* Run i of experiment a: lr '0.1' when i % 3 == 0 else '0.01'; acc = i/10,
 * except run 5 (no acc) and run 7 (NaN); runs 0, 4, 8 FINISHED, the others
 * left RUNNING. Experiment b gets 3 runs. */
static void e2e_setup(e2e *f, int kind)
{
    mlops_experiment *ea, *eb;
    tu_store_open(&f->t, kind, NULL);
    OK(mlops_experiment_get_or_create(&ea, f->t.s, "search-a"));
    OK(mlops_experiment_get_or_create(&eb, f->t.s, "search-b"));
    snprintf(f->exp_a, sizeof f->exp_a, "%s", ea->id);
    snprintf(f->exp_b, sizeof f->exp_b, "%s", eb->id);
    mlops_experiment_free(ea);
    mlops_experiment_free(eb);
    for (int i = 0; i < NRUNS + 3; i++) {
        mlops_run_options o;
        char name[32];
        mlops_run *r;
        OK(mlops_run_options_init(&o, MLOPS_RUN_OPTIONS_VERSION));
        snprintf(name, sizeof name, "run-%d", i);
        o.run_name = name;
        o.start_time = 1000 + i;
        OK(mlops_run_start(&r, f->t.s, i < NRUNS ? f->exp_a : f->exp_b, &o));
        OK(mlops_run_log_param(r, "lr", i % 3 == 0 ? "0.1" : "0.01"));
        OK(mlops_run_log_param(r, "model", i % 2 == 0 ? "CNN-small" : "mlp"));
        if (i != 5)
            OK(mlops_run_log_metric(r, "acc", i == 7 ? NAN : i / 10.0, 0, 5000 + i));
        OK(mlops_run_set_tag(r, "team name", "vision"));
        OK(mlops_run_flush(r));
        if (i % 4 == 0)
            OK(mlops_run_end(r, MLOPS_RUN_FINISHED));
        if (i < NRUNS)
            snprintf(f->ids[i], sizeof f->ids[i], "%s", mlops_run_id(r));
        mlops_run_free(r);
    }
}

/* Searches and checks the run indexes (into f->ids) in order; -1 ends want. */
static void expect_runs(e2e *f, const char *const *exps, size_t nexps, const mlops_search_options *o,
                        const int *want)
{
    mlops_run_list l;
    OK(mlops_run_search(&l, f->t.s, exps, nexps, o));
    size_t n = 0;
    while (want[n] >= 0)
        n++;
    ck_assert_msg(l.count == n, "filter \"%s\": %zu runs, want %zu", o && o->filter ? o->filter : "", l.count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(l.runs[i]->run_id, f->ids[want[i]]);
    ck_assert_ptr_null(l.next_page_token);
    mlops_run_list_free(&l);
}

START_TEST(e2e_filter_and_order)
{
    e2e f;
    e2e_setup(&f, _i);
    const char *a[] = {f.exp_a};
    mlops_search_options o = MLOPS_SEARCH_OPTIONS_INIT;

    /* one metric + one param clause, default order start_time DESC */
    o.filter = "metrics.acc > 0.5 and params.lr = '0.01'";
    expect_runs(&f, a, 1, &o, (const int[]){11, 10, 8, -1});
    const char *by_acc[] = {"metrics.acc ASC"};
    o.order_by = by_acc;
    o.norder_by = 1;
    expect_runs(&f, a, 1, &o, (const int[]){8, 10, 11, -1});

    /* NaN (7) and missing (5) last in both directions */
    o.filter = "params.model != 'x'";
    expect_runs(&f, a, 1, &o, (const int[]){0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 7, 5, -1});
    const char *by_acc_desc[] = {"metrics.acc DESC"};
    o.order_by = by_acc_desc;
    expect_runs(&f, a, 1, &o, (const int[]){11, 10, 9, 8, 6, 4, 3, 2, 1, 0, 7, 5, -1});

    o.order_by = NULL;
    o.norder_by = 0;
    o.filter = "attributes.status = 'FINISHED'";
    expect_runs(&f, a, 1, &o, (const int[]){8, 4, 0, -1});
    o.filter = "params.model ILIKE 'cnn-%' and status != 'FINISHED' and tags.`team name` = 'vision'";
    expect_runs(&f, a, 1, &o, (const int[]){10, 6, 2, -1});
    o.filter = "metrics.acc != 0.3 and run_name LIKE 'run-1_'";
    expect_runs(&f, a, 1, &o, (const int[]){11, 10, -1});
    o.filter = "start_time >= 1009 and end_time > 0";
    expect_runs(&f, a, 1, &o, (const int[]){-1});
    o.filter = "start_time >= 1008 and end_time > 0";
    expect_runs(&f, a, 1, &o, (const int[]){8, -1});

    char in[200];
    snprintf(in, sizeof in, "run_id IN ('%s', '%s')", f.ids[3], f.ids[9]);
    o.filter = in;
    expect_runs(&f, a, 1, &o, (const int[]){9, 3, -1});

    /* the infos carry params and latest metrics */
    mlops_run_list l;
    o.filter = "params.lr = '0.1' and metrics.acc >= 0.9";
    OK(mlops_run_search(&l, f.t.s, a, 1, &o));
    ck_assert_uint_eq(l.count, 1);
    ck_assert_str_eq(l.runs[0]->run_name, "run-9");
    ck_assert_uint_eq(l.runs[0]->nmetrics, 1);
    ck_assert(l.runs[0]->metrics[0].value == 0.9);
    mlops_run_list_free(&l);
    mlops_run_list_free(&l); /* a freed list is empty: freeing again is harmless */
    tu_store_destroy(&f.t);
}
END_TEST

START_TEST(e2e_experiments_and_deleted)
{
    e2e f;
    e2e_setup(&f, TU_FS);
    mlops_run_list l;
    const char *a[] = {f.exp_a}, *b[] = {f.exp_b}, *ab[] = {f.exp_b, f.exp_a}, *none[] = {"999"};

    OK(mlops_run_search(&l, f.t.s, ab, 2, NULL));
    ck_assert_uint_eq(l.count, NRUNS + 3);
    mlops_run_list_free(&l);
    OK(mlops_run_search(&l, f.t.s, NULL, 0, NULL)); /* no experiment given: all */
    ck_assert_uint_eq(l.count, NRUNS + 3);
    mlops_run_list_free(&l);
    OK(mlops_run_search(&l, f.t.s, b, 1, NULL));
    ck_assert_uint_eq(l.count, 3);
    for (size_t i = 0; i < l.count; i++)
        ck_assert_str_eq(l.runs[i]->experiment_id, f.exp_b);
    mlops_run_list_free(&l);
    OK(mlops_run_search(&l, f.t.s, none, 1, NULL));
    ck_assert_uint_eq(l.count, 0);
    ck_assert_ptr_null(l.next_page_token);
    mlops_run_list_free(&l);

    OK(mlops_run_delete(f.t.s, f.ids[11]));
    mlops_search_options o = MLOPS_SEARCH_OPTIONS_INIT;
    o.filter = "metrics.acc > 0.95";
    expect_runs(&f, a, 1, &o, (const int[]){10, -1});
    o.include_deleted = 1;
    expect_runs(&f, a, 1, &o, (const int[]){11, 10, -1});
    OK(mlops_run_restore(f.t.s, f.ids[11]));
    o.include_deleted = 0;
    expect_runs(&f, a, 1, &o, (const int[]){11, 10, -1});
    tu_store_destroy(&f.t);
}
END_TEST

START_TEST(e2e_paging)
{
    e2e f;
    e2e_setup(&f, _i);
    const char *a[] = {f.exp_a};
    mlops_search_options o = MLOPS_SEARCH_OPTIONS_INIT;
    const char *by_name[] = {"run_name DESC"}; /* "run-9" > "run-11" as strings */
    o.order_by = by_name;
    o.norder_by = 1;
    o.max_results = 5;
    static const int want[NRUNS] = {9, 8, 7, 6, 5, 4, 3, 2, 11, 10, 1, 0};
    char token[32] = "";
    size_t seen = 0, pages = 0;
    for (;;) {
        mlops_run_list l;
        o.page_token = pages ? token : NULL;
        OK(mlops_run_search(&l, f.t.s, a, 1, &o));
        pages++;
        for (size_t i = 0; i < l.count; i++, seen++)
            ck_assert_str_eq(l.runs[i]->run_id, f.ids[want[seen]]);
        if (!l.next_page_token) {
            mlops_run_list_free(&l);
            break;
        }
        ck_assert_uint_eq(l.count, 5);
        snprintf(token, sizeof token, "%s", l.next_page_token);
        mlops_run_list_free(&l);
    }
    ck_assert_uint_eq(seen, NRUNS);
    ck_assert_uint_eq(pages, 3);

    /* exactly one full page: no token */
    mlops_run_list l;
    o.page_token = NULL;
    o.max_results = NRUNS;
    OK(mlops_run_search(&l, f.t.s, a, 1, &o));
    ck_assert_uint_eq(l.count, NRUNS);
    ck_assert_ptr_null(l.next_page_token);
    mlops_run_list_free(&l);
    /* an offset past the end (runs deleted since): an empty last page */
    o.page_token = "1000";
    OK(mlops_run_search(&l, f.t.s, a, 1, &o));
    ck_assert_uint_eq(l.count, 0);
    ck_assert_ptr_null(l.next_page_token);
    mlops_run_list_free(&l);
    tu_store_destroy(&f.t);
}
END_TEST

START_TEST(e2e_bad_input)
{
    e2e f;
    e2e_setup(&f, TU_MEMORY);
    const char *a[] = {f.exp_a};
    mlops_run_list l;
    mlops_search_options o = MLOPS_SEARCH_OPTIONS_INIT;

    o.filter = "metrics.acc >> 1";
    tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "'>>' at 12"));
    ck_assert_uint_eq(l.count, 0);
    ck_assert_ptr_null(l.runs);
    o.filter = "metrics.acc > 1 or params.x = 'y'";
    tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "OR is not supported"));
    o.filter = NULL;

    const char *bad_order[] = {"metrics.acc DESC", "widgets.x"};
    o.order_by = bad_order;
    o.norder_by = 2;
    tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "invalid entity type 'widgets'"));
    o.order_by = NULL;
    o.norder_by = 1;
    tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
    o.norder_by = 0;

    const char *tokens[] = {"", "abc", "-1", "+5", " 5", "5 ", "1e3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        o.page_token = tokens[i];
        tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
        ck_assert_ptr_nonnull(strstr(mlops_error_last(), "page token"));
    }
    o.page_token = NULL;
    o.max_results = 50001;
    tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
    o.max_results = 50000;
    OK(mlops_run_search(&l, f.t.s, a, 1, &o));
    mlops_run_list_free(&l);

    o.max_results = 0;
    o.version = 7;
    tu_assert_err(mlops_run_search(&l, f.t.s, a, 1, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_run_search(NULL, f.t.s, a, 1, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_run_search(&l, NULL, a, 1, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_run_search(&l, f.t.s, NULL, 1, NULL), MLOPS_EINVALID);
    const char *null_id[] = {NULL};
    tu_assert_err(mlops_run_search(&l, f.t.s, null_id, 1, NULL), MLOPS_EINVALID);
    mlops_run_list_free(NULL);
    tu_store_destroy(&f.t);
}
END_TEST

static Suite *track_search_suite(void)
{
    Suite *s = suite_create("track_search");
    TCase *tc = tcase_create("grammar");
    tcase_add_test(tc, parse_empty);
    tcase_add_test(tc, parse_clause_shapes);
    tcase_add_test(tc, parse_attributes);
    tcase_add_test(tc, parse_numbers);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_errors_leave_no_garbage);
    tcase_add_test(tc, parse_out_of_memory);
    tcase_add_test(tc, like_patterns);
    tcase_add_test(tc, eval_metrics);
    tcase_add_test(tc, eval_params_tags);
    tcase_add_test(tc, eval_attributes);
    tcase_add_test(tc, order_parse_valid);
    tcase_add_test(tc, order_parse_errors);
    tcase_add_test(tc, order_sorting);
    tcase_add_test(tc, search_options);
    suite_add_tcase(s, tc);
    tc = tcase_create("search");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, e2e_filter_and_order, 0, TU_KINDS);
    tcase_add_test(tc, e2e_experiments_and_deleted);
    tcase_add_loop_test(tc, e2e_paging, 0, TU_KINDS);
    tcase_add_test(tc, e2e_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(track_search_suite());
}
