/*
 * MLflow's search_runs filter and order_by grammar, parsed by hand (MLflow
 * uses sqlparse; docs/EXPORT-FORMATS.md §3 lists what it accepts).
 *
 * Choices where MLflow is loose or we differ, on purpose:
 *  - Entity types are matched case-insensitively ("Metrics.acc" works);
 *    attribute names are exact, with MLflow's aliases (created, run name).
 *  - Unquoted keys are [A-Za-z0-9_.]; anything else needs `...`, "..." or
 *    '...' around the key. Inside quotes a doubled quote is a literal quote.
 *  - LIKE/ILIKE is real SQL LIKE ('%' any run, '_' one UTF-8 character,
 *    everything else literal), not MLflow FileStore's unescaped regex.
 *  - Metric comparisons use IEEE semantics, as MLflow's FileStore (Python
 *    floats) does: a NaN latest value matches only '!='.
 *  - A run lacking the key never matches, '!=' included (MLflow's rule);
 *    end_time is "lacking" while the run has not ended (stored as 0).
 *  - dataset clauses and artifact_uri are MLflow's but have nothing to
 *    compare against here: MLOPS_EINVALID saying so.
 */
#include "track/filter.h"

#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"

typedef struct lexer {
    const char *s;
    size_t pos;
    const char *who; /* message prefix: "filter" or "order_by '<entry>'" */
} lexer;

/* An identifier being parsed. */
typedef struct ident {
    mlops__fkind kind;
    mlops__fattr attr;
    char *key;
} ident;

static int is_word(int c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static int is_opchar(int c)
{
    return c == '=' || c == '!' || c == '<' || c == '>';
}

static void skip_ws(lexer *lx)
{
    while (isspace((unsigned char)lx->s[lx->pos]))
        lx->pos++;
}

/* Length of the token starting at pos, for error messages only: the user
 * should see the whole '>>' or 'abc', not one byte of it. */
static size_t token_len(const char *s, size_t pos)
{
    const char *p = s + pos;
    size_t n = 0;
    if (!*p)
        return 0;
    if (*p == '\'' || *p == '"' || *p == '`') {
        n = 1;
        while (p[n] && p[n] != *p)
            n++;
        return p[n] ? n + 1 : n;
    }
    if ((*p == '-' || *p == '+') && (isdigit((unsigned char)p[1]) || p[1] == '.'))
        n = 1;
    if (is_word(p[n]) || p[n] == '.') {
        while (is_word(p[n]) || p[n] == '.')
            n++;
        return n;
    }
    if (is_opchar(*p)) {
        while (is_opchar(p[n]))
            n++;
        return n;
    }
    /* one UTF-8 character */
    n = 1;
    while ((p[n] & 0xc0) == 0x80)
        n++;
    return n;
}

static int unexpected(const lexer *lx, size_t pos, const char *expected)
{
    while (isspace((unsigned char)lx->s[pos])) /* name the token, not the blank before it */
        pos++;
    size_t n = token_len(lx->s, pos);
    if (n == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s: unexpected end at %zu (expected %s)", lx->who, pos, expected);
    return mlops__error_set(MLOPS_EINVALID, "%s: unexpected token '%.*s' at %zu (expected %s)", lx->who,
                            (int)(n > 64 ? 64 : n), lx->s + pos, pos, expected);
}

/* Reads a quoted text at lx->pos (quote char q; a doubled q is one q). */
static int read_quoted(char **out, lexer *lx)
{
    const char *s = lx->s;
    size_t start = lx->pos;
    char q = s[start];
    size_t len = 0, i = start + 1;
    for (;; i++) {
        if (!s[i])
            return mlops__error_set(MLOPS_EINVALID, "%s: unterminated %c...%c starting at %zu", lx->who, q, q,
                                    start);
        if (s[i] == q) {
            if (s[i + 1] != q)
                break;
            i++;
        }
        len++;
    }
    char *t = mlops__malloc(len + 1);
    if (!t)
        return mlops__error_oom();
    size_t k = 0;
    for (size_t j = start + 1; j < i; j++) {
        t[k++] = s[j];
        if (s[j] == q)
            j++; /* skip the second of a doubled quote */
    }
    t[k] = '\0';
    lx->pos = i + 1;
    *out = t;
    return 0;
}

static int word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(w, lit, n) == 0;
}

static int resolve_type(ident *id, const lexer *lx, const char *w, size_t n, size_t at)
{
    if (word_is(w, n, "metric") || word_is(w, n, "metrics"))
        id->kind = MLOPS__F_METRIC;
    else if (word_is(w, n, "param") || word_is(w, n, "params") || word_is(w, n, "parameter") ||
             word_is(w, n, "parameters"))
        id->kind = MLOPS__F_PARAM;
    else if (word_is(w, n, "tag") || word_is(w, n, "tags"))
        id->kind = MLOPS__F_TAG;
    else if (word_is(w, n, "attribute") || word_is(w, n, "attributes") || word_is(w, n, "attr") ||
             word_is(w, n, "run"))
        id->kind = MLOPS__F_ATTR;
    else if (word_is(w, n, "dataset") || word_is(w, n, "datasets"))
        return mlops__error_set(MLOPS_EINVALID, "%s: dataset clauses are not supported ('%.*s' at %zu)", lx->who,
                                (int)n, w, at);
    else
        return mlops__error_set(MLOPS_EINVALID,
                                "%s: invalid entity type '%.*s' at %zu (valid: metric, parameter, tag, attribute)",
                                lx->who, (int)(n > 64 ? 64 : n), w, at);
    return 0;
}

static const struct {
    const char *name;
    mlops__fattr attr;
} attr_names[] = {
    {"run_id", MLOPS__A_RUN_ID},         {"run_name", MLOPS__A_RUN_NAME},     {"run name", MLOPS__A_RUN_NAME},
    {"Run name", MLOPS__A_RUN_NAME},     {"Run Name", MLOPS__A_RUN_NAME},     {"status", MLOPS__A_STATUS},
    {"user_id", MLOPS__A_USER_ID},       {"start_time", MLOPS__A_START_TIME}, {"created", MLOPS__A_START_TIME},
    {"Created", MLOPS__A_START_TIME},    {"end_time", MLOPS__A_END_TIME},
};

static int resolve_attr(ident *id, const lexer *lx, const char *key, size_t at)
{
    for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
        if (strcmp(key, attr_names[i].name) == 0) {
            id->attr = attr_names[i].attr;
            return 0;
        }
    if (strcmp(key, "artifact_uri") == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s: attribute 'artifact_uri' is not supported (at %zu)", lx->who,
                                at);
    return mlops__error_set(MLOPS_EINVALID,
                            "%s: invalid attribute key '%.64s' at %zu (valid: run_id, run_name, status, user_id, "
                            "start_time, end_time)",
                            lx->who, key, at);
}

/* <type>.<key>, or a bare attribute name; the type may be in backticks,
 * the key in backticks or either quote. */
static int parse_ident(ident *id, lexer *lx)
{
    const char *s = lx->s;
    size_t start = lx->pos;
    char *first = NULL;
    const char *w;
    size_t n;
    int rc;

    id->key = NULL;
    if (s[start] == '`' || s[start] == '"') {
        MLOPS__TRY(read_quoted(&first, lx));
        w = first;
        n = strlen(first);
    } else {
        while (is_word(s[lx->pos]))
            lx->pos++;
        if (lx->pos == start)
            return unexpected(lx, start, "a key such as metrics.acc");
        w = s + start;
        n = lx->pos - start;
    }

    if (s[lx->pos] != '.') { /* bare: an attribute */
        id->kind = MLOPS__F_ATTR;
        char *key = first ? first : mlops__strndup(w, n);
        if (!key)
            return mlops__error_oom();
        rc = resolve_attr(id, lx, key, start);
        mlops__free(key);
        return rc;
    }

    rc = resolve_type(id, lx, w, n, start);
    mlops__free(first);
    MLOPS__TRY(rc);
    lx->pos++; /* the '.' */

    size_t kstart = lx->pos;
    char c = s[kstart];
    char *key;
    if (c == '`' || c == '"' || c == '\'') {
        MLOPS__TRY(read_quoted(&key, lx));
    } else {
        while (is_word(s[lx->pos]) || s[lx->pos] == '.')
            lx->pos++;
        if (lx->pos == kstart)
            return unexpected(lx, kstart, "a key after the '.' (quote keys with other characters)");
        key = mlops__strndup(s + kstart, lx->pos - kstart);
        if (!key)
            return mlops__error_oom();
    }
    if (!*key) {
        mlops__free(key);
        return mlops__error_set(MLOPS_EINVALID, "%s: empty key at %zu", lx->who, kstart);
    }
    if (id->kind == MLOPS__F_ATTR) {
        rc = resolve_attr(id, lx, key, kstart);
        mlops__free(key);
        return rc;
    }
    id->key = key;
    return 0;
}

/* ---- clauses ---------------------------------------------------------- */

static const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"};

static int parse_op(mlops__fop *out, lexer *lx)
{
    const char *s = lx->s;
    size_t start = lx->pos;
    const char *expected = "a comparator (= != < <= > >= LIKE ILIKE IN NOT IN)";
    if (is_opchar(s[start])) {
        size_t n = 0;
        while (is_opchar(s[start + n]))
            n++;
        for (int op = MLOPS__OP_EQ; op <= MLOPS__OP_GE; op++)
            if (strlen(op_names[op]) == n && memcmp(op_names[op], s + start, n) == 0) {
                *out = (mlops__fop)op;
                lx->pos += n;
                return 0;
            }
        return unexpected(lx, start, expected);
    }
    size_t n = 0;
    while (is_word(s[start + n]))
        n++;
    if (word_is(s + start, n, "LIKE"))
        *out = MLOPS__OP_LIKE;
    else if (word_is(s + start, n, "ILIKE"))
        *out = MLOPS__OP_ILIKE;
    else if (word_is(s + start, n, "IN"))
        *out = MLOPS__OP_IN;
    else if (word_is(s + start, n, "NOT")) {
        lx->pos += n;
        skip_ws(lx);
        size_t m = 0;
        while (is_word(s[lx->pos + m]))
            m++;
        if (!word_is(s + lx->pos, m, "IN"))
            return unexpected(lx, lx->pos, "IN after NOT");
        lx->pos += m;
        *out = MLOPS__OP_NOT_IN;
        return 0;
    } else
        return unexpected(lx, start, expected);
    lx->pos += n;
    return 0;
}

static const char *kind_name(mlops__fkind k)
{
    switch (k) {
    case MLOPS__F_METRIC: return "a metric";
    case MLOPS__F_PARAM: return "a param";
    case MLOPS__F_TAG: return "a tag";
    default: return "an attribute";
    }
}

int mlops__is_numeric(mlops__fkind kind, mlops__fattr attr)
{
    return kind == MLOPS__F_METRIC || (kind == MLOPS__F_ATTR && attr >= MLOPS__A_START_TIME);
}

static int is_numeric(const mlops__clause *c)
{
    return mlops__is_numeric(c->kind, c->attr);
}

static int check_op(const mlops__clause *c, const lexer *lx, size_t at)
{
    const char *valid;
    int ok;
    if (is_numeric(c)) {
        ok = c->op <= MLOPS__OP_GE;
        valid = "= != < <= > >=";
    } else if (c->kind == MLOPS__F_ATTR) {
        ok = c->op <= MLOPS__OP_NE || c->op >= MLOPS__OP_LIKE;
        valid = "= != LIKE ILIKE IN NOT IN";
        if (ok && c->op >= MLOPS__OP_IN && c->attr != MLOPS__A_RUN_ID)
            return mlops__error_set(MLOPS_EINVALID, "%s: only run_id supports '%s' with a list (at %zu)", lx->who,
                                    op_names[c->op], at);
    } else {
        ok = c->op <= MLOPS__OP_NE || c->op == MLOPS__OP_LIKE || c->op == MLOPS__OP_ILIKE;
        valid = "= != LIKE ILIKE";
    }
    if (!ok)
        return mlops__error_set(MLOPS_EINVALID, "%s: invalid comparator '%s' for %s at %zu (valid: %s)", lx->who,
                                op_names[c->op], kind_name(c->kind), at, valid);
    return 0;
}

/* Length of a number literal at p (sqlparse's forms: 1, -1, 1.5, .5, 1e-3),
 * 0 if there is none or it runs into letters ("1abc"). */
static size_t scan_number(const char *p)
{
    size_t n = 0, digits = 0;
    if (p[n] == '-' || p[n] == '+')
        n++;
    while (isdigit((unsigned char)p[n]))
        n++, digits++;
    if (p[n] == '.') {
        n++;
        while (isdigit((unsigned char)p[n]))
            n++, digits++;
    }
    if (!digits)
        return 0;
    if (p[n] == 'e' || p[n] == 'E') {
        size_t e = n + 1;
        if (p[e] == '-' || p[e] == '+')
            e++;
        if (isdigit((unsigned char)p[e])) {
            while (isdigit((unsigned char)p[e]))
                e++;
            n = e;
        }
    }
    if (is_word(p[n]) || p[n] == '.')
        return 0;
    return n;
}

/* strtod honours LC_NUMERIC; a host program that called setlocale() must
 * not change what "0.5" means in a filter, so the '.' is swapped for the
 * locale's decimal point first. */
static double parse_double(const char *p, size_t n)
{
    char buf[128];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = dp[0];
    }
    return strtod(buf, NULL);
}

static int parse_list(mlops__clause *c, lexer *lx)
{
    const char *s = lx->s;
    if (s[lx->pos] != '(')
        return unexpected(lx, lx->pos, "a parenthesised list of quoted run ids");
    lx->pos++;
    size_t cap = 0;
    for (;;) {
        skip_ws(lx);
        if (s[lx->pos] == ')' && c->nlist == 0)
            break;
        if (s[lx->pos] != '\'' && s[lx->pos] != '"')
            return unexpected(lx, lx->pos, "a quoted run id");
        if (c->nlist == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            char **nl = mlops__realloc(c->list, ncap * sizeof *nl);
            if (!nl)
                return mlops__error_oom();
            c->list = nl;
            cap = ncap;
        }
        MLOPS__TRY(read_quoted(&c->list[c->nlist], lx));
        c->nlist++;
        skip_ws(lx);
        if (s[lx->pos] == ',') {
            lx->pos++;
            continue;
        }
        if (s[lx->pos] == ')')
            break;
        return unexpected(lx, lx->pos, "',' or ')'");
    }
    lx->pos++;
    return 0;
}

static int parse_value(mlops__clause *c, lexer *lx)
{
    const char *s = lx->s;
    size_t at = lx->pos;
    if (c->op == MLOPS__OP_IN || c->op == MLOPS__OP_NOT_IN)
        return parse_list(c, lx);
    if (is_numeric(c)) {
        size_t n = scan_number(s + at);
        if (!n)
            return unexpected(lx, at, "a number");
        c->num = parse_double(s + at, n);
        lx->pos += n;
        return 0;
    }
    if (s[at] != '\'' && s[at] != '"')
        return unexpected(lx, at, "a quoted string ('...' or \"...\")");
    return read_quoted(&c->str, lx);
}

static void clause_dispose(mlops__clause *c)
{
    mlops__free(c->key);
    mlops__free(c->str);
    for (size_t i = 0; i < c->nlist; i++)
        mlops__free(c->list[i]);
    mlops__free(c->list);
    memset(c, 0, sizeof *c);
}

static int parse_clause(mlops__clause *c, lexer *lx)
{
    ident id;
    skip_ws(lx);
    if (lx->s[lx->pos] == '(')
        return mlops__error_set(MLOPS_EINVALID, "%s: unexpected token '(' at %zu (parentheses are not supported)",
                                lx->who, lx->pos);
    MLOPS__TRY(parse_ident(&id, lx));
    c->kind = id.kind;
    c->attr = id.attr;
    c->key = id.key;
    skip_ws(lx);
    size_t opat = lx->pos;
    MLOPS__TRY(parse_op(&c->op, lx));
    MLOPS__TRY(check_op(c, lx, opat));
    skip_ws(lx);
    return parse_value(c, lx);
}

int mlops__filter_parse(mlops__filter *out, const char *filter)
{
    lexer lx = {filter ? filter : "", 0, "filter"};
    size_t cap = 0;
    int rc = 0;

    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "filter: NULL argument");
    memset(out, 0, sizeof *out);
    skip_ws(&lx);
    if (!lx.s[lx.pos])
        return 0;
    for (;;) {
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            mlops__clause *nc = mlops__realloc(out->clauses, ncap * sizeof *nc);
            if (!nc) {
                rc = mlops__error_oom();
                break;
            }
            out->clauses = nc;
            cap = ncap;
        }
        mlops__clause *c = &out->clauses[out->n];
        memset(c, 0, sizeof *c);
        out->n++; /* counted at once so that dispose frees a half-parsed one */
        rc = parse_clause(c, &lx);
        if (rc < 0)
            break;
        skip_ws(&lx);
        if (!lx.s[lx.pos])
            return 0;
        size_t at = lx.pos, n = 0;
        while (is_word(lx.s[at + n]))
            n++;
        if (word_is(lx.s + at, n, "AND")) {
            lx.pos += n;
            continue;
        }
        if (word_is(lx.s + at, n, "OR"))
            rc = mlops__error_set(MLOPS_EINVALID, "filter: OR is not supported ('%.*s' at %zu); join clauses with AND",
                                  (int)n, lx.s + at, at);
        else
            rc = unexpected(&lx, at, "AND or the end of the filter");
        break;
    }
    mlops__filter_dispose(out);
    return rc;
}

void mlops__filter_dispose(mlops__filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        clause_dispose(&f->clauses[i]);
    mlops__free(f->clauses);
    f->clauses = NULL;
    f->n = 0;
}

/* ---- evaluation ------------------------------------------------------- */

/* Bytes of the UTF-8 character at t ('_' matches one character, as in
 * MLflow's regex translation where '.' matches one code point). */
static size_t char_len(const char *t)
{
    size_t n = 1;
    while ((t[n] & 0xc0) == 0x80)
        n++;
    return n;
}

/* Greedy matching that backtracks only to the last '%': linear in
 * practice, O(len(text) * len(pattern)) at worst, no recursion. */
int mlops__like(const char *text, const char *pattern, int nocase)
{
    const char *t = text, *p = pattern;
    const char *star_p = NULL, *star_t = NULL;
    while (*t) {
        if (*p == '%') {
            while (*p == '%')
                p++;
            star_p = p;
            star_t = t;
            continue;
        }
        if (*p == '_') {
            p++;
            t += char_len(t);
            continue;
        }
        if (*p && (*p == *t || (nocase && tolower((unsigned char)*p) == tolower((unsigned char)*t)))) {
            p++;
            t++;
            continue;
        }
        if (!star_p)
            return 0;
        star_t += char_len(star_t);
        t = star_t;
        p = star_p;
    }
    while (*p == '%')
        p++;
    return *p == '\0';
}

/* params, tags and metrics come sorted by key (track.h). */
static const mlops_kv *find_kv(const mlops_kv *kv, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(kv[mid].key, key);
        if (c == 0)
            return &kv[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const mlops_metric_latest *find_metric(const mlops_run_info *info, const char *key)
{
    size_t lo = 0, hi = info->nmetrics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(info->metrics[mid].key, key);
        if (c == 0)
            return &info->metrics[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int mlops__run_numeric(double *out, const mlops_run_info *info, mlops__fkind kind, mlops__fattr attr,
                       const char *key)
{
    if (kind == MLOPS__F_METRIC) {
        const mlops_metric_latest *m = find_metric(info, key);
        if (!m)
            return 0;
        *out = m->value;
        return 1;
    }
    if (attr == MLOPS__A_START_TIME) {
        *out = (double)info->start_time;
        return 1;
    }
    if (attr == MLOPS__A_END_TIME && info->end_time != 0) {
        *out = (double)info->end_time;
        return 1;
    }
    return 0;
}

const char *mlops__run_string(const mlops_run_info *info, mlops__fkind kind, mlops__fattr attr, const char *key)
{
    const mlops_kv *kv;
    switch (kind) {
    case MLOPS__F_PARAM:
        kv = find_kv(info->params, info->nparams, key);
        return kv ? kv->value : NULL;
    case MLOPS__F_TAG:
        kv = find_kv(info->tags, info->ntags, key);
        return kv ? kv->value : NULL;
    case MLOPS__F_ATTR:
        switch (attr) {
        case MLOPS__A_RUN_ID: return info->run_id[0] ? info->run_id : NULL;
        case MLOPS__A_RUN_NAME: return info->run_name;
        case MLOPS__A_STATUS: return mlops_run_status_name(info->status);
        case MLOPS__A_USER_ID: return info->user;
        default: return NULL;
        }
    default: return NULL;
    }
}

static int match_clause(const mlops__clause *c, const mlops_run_info *info)
{
    if (is_numeric(c)) {
        double v;
        if (!mlops__run_numeric(&v, info, c->kind, c->attr, c->key))
            return 0;
        switch (c->op) {
        case MLOPS__OP_EQ: return v == c->num;
        case MLOPS__OP_NE: return v != c->num;
        case MLOPS__OP_LT: return v < c->num;
        case MLOPS__OP_LE: return v <= c->num;
        case MLOPS__OP_GT: return v > c->num;
        case MLOPS__OP_GE: return v >= c->num;
        default: return 0;
        }
    }
    const char *v = mlops__run_string(info, c->kind, c->attr, c->key);
    if (!v)
        return 0;
    switch (c->op) {
    case MLOPS__OP_EQ: return strcmp(v, c->str) == 0;
    case MLOPS__OP_NE: return strcmp(v, c->str) != 0;
    case MLOPS__OP_LIKE: return mlops__like(v, c->str, 0);
    case MLOPS__OP_ILIKE: return mlops__like(v, c->str, 1);
    case MLOPS__OP_IN:
    case MLOPS__OP_NOT_IN: {
        int found = 0;
        for (size_t i = 0; i < c->nlist && !found; i++)
            found = strcmp(v, c->list[i]) == 0;
        return c->op == MLOPS__OP_IN ? found : !found;
    }
    default: return 0;
    }
}

int mlops__filter_match(const mlops__filter *f, const mlops_run_info *info)
{
    for (size_t i = 0; i < f->n; i++)
        if (!match_clause(&f->clauses[i], info))
            return 0;
    return 1;
}

/* ---- order_by --------------------------------------------------------- */

static int parse_order(mlops__order *o, const char *entry)
{
    char who[160];
    snprintf(who, sizeof who, "order_by '%.120s'", entry);
    lexer lx = {entry, 0, who};
    ident id;

    skip_ws(&lx);
    MLOPS__TRY(parse_ident(&id, &lx));
    o->kind = id.kind;
    o->attr = id.attr;
    o->key = id.key;
    o->descending = 0;
    skip_ws(&lx);
    size_t at = lx.pos, n = 0;
    while (is_word(entry[at + n]))
        n++;
    if (word_is(entry + at, n, "DESC"))
        o->descending = 1;
    else if (n && !word_is(entry + at, n, "ASC"))
        return unexpected(&lx, at, "ASC or DESC");
    lx.pos += n;
    skip_ws(&lx);
    if (entry[lx.pos])
        return unexpected(&lx, lx.pos, "the end of the entry");
    return 0;
}

int mlops__order_parse(mlops__order_list *out, const char *const *order_by, size_t n)
{
    if (!out || (n && !order_by))
        return mlops__error_set(MLOPS_EINVALID, "order_by: NULL argument");
    memset(out, 0, sizeof *out);
    if (!n)
        return 0;
    out->keys = mlops__calloc(n, sizeof *out->keys);
    if (!out->keys)
        return mlops__error_oom();
    for (size_t i = 0; i < n; i++) {
        int rc;
        out->n = i + 1; /* dispose frees the key of a failed entry too */
        if (!order_by[i])
            rc = mlops__error_set(MLOPS_EINVALID, "order_by: entry %zu is NULL", i);
        else
            rc = parse_order(&out->keys[i], order_by[i]);
        if (rc < 0) {
            mlops__order_dispose(out);
            return rc;
        }
    }
    return 0;
}

void mlops__order_dispose(mlops__order_list *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        mlops__free(o->keys[i].key);
    mlops__free(o->keys);
    o->keys = NULL;
    o->n = 0;
}
