/* Reader of the drift test vectors (drift_vec.h). */
#include "drift_vec.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TU_DRIFT_VECTORS
#error "TU_DRIFT_VECTORS (the tests/drift directory) must be defined"
#endif

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    ck_assert_msg(q != NULL, "out of memory reading test vectors");
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    ck_assert_msg(d != NULL, "out of memory reading test vectors");
    return d;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1p-53;
}

double *tv_generate(const char *kind, uint64_t seed, size_t n, double p1, double p2)
{
    double *v = xrealloc(NULL, n * sizeof *v);
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kind, "uniform") == 0) {
            v[i] = p1 + (p2 - p1) * unit(&st);
        } else if (strcmp(kind, "normal") == 0) {
            double s = 0;
            for (int k = 0; k < 12; k++)
                s += unit(&st);
            v[i] = p1 + p2 * (s - 6.0);
        } else if (strcmp(kind, "int") == 0) {
            v[i] = floor(p1 + (p2 - p1 + 1.0) * unit(&st));
        } else {
            ck_abort_msg("unknown generated array kind '%s'", kind);
        }
    }
    return v;
}

static double parse_num(const char *tok, const char *where)
{
    char *end;
    double d = strtod(tok, &end);
    ck_assert_msg(end != tok && *end == '\0', "%s: bad number '%s'", where, tok);
    return d;
}

static void parse_array(tv_field *f, char *rest, const char *where)
{
    char *save = NULL, *tok = strtok_r(rest, " \t", &save);
    ck_assert_msg(tok != NULL, "%s: array without a size", where);
    f->is_array = 1;
    if (strcmp(tok, "gen") == 0) {
        char *kind = strtok_r(NULL, " \t", &save), *seed = strtok_r(NULL, " \t", &save);
        char *n = strtok_r(NULL, " \t", &save), *p1 = strtok_r(NULL, " \t", &save);
        char *p2 = strtok_r(NULL, " \t", &save);
        ck_assert_msg(kind && seed && n && p1 && p2, "%s: gen needs kind seed n p1 p2", where);
        f->n = strtoull(n, NULL, 10);
        f->v = tv_generate(kind, strtoull(seed, NULL, 10), f->n, parse_num(p1, where), parse_num(p2, where));
        return;
    }
    f->n = strtoull(tok, NULL, 10);
    f->v = xrealloc(NULL, f->n * sizeof *f->v);
    for (size_t i = 0; i < f->n; i++) {
        tok = strtok_r(NULL, " \t", &save);
        ck_assert_msg(tok != NULL, "%s: array shorter than %zu", where, f->n);
        f->v[i] = parse_num(tok, where);
    }
    ck_assert_msg(strtok_r(NULL, " \t", &save) == NULL, "%s: array longer than %zu", where, f->n);
}

void tv_load(tv_file *out, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", TU_DRIFT_VECTORS, file);
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open test vectors %s", path);
    memset(out, 0, sizeof *out);
    tv_case *cur = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%lu", path, lineno);
        char *sp = strchr(line, ' ');
        char *key = line, *rest = sp ? sp + 1 : line + len;
        if (sp)
            *sp = '\0';
        if (strcmp(key, "case") == 0) {
            ck_assert_msg(cur == NULL, "%s: case inside a case", where);
            out->cases = xrealloc(out->cases, (out->ncases + 1) * sizeof *out->cases);
            cur = &out->cases[out->ncases++];
            memset(cur, 0, sizeof *cur);
            cur->name = xstrdup(rest);
        } else if (strcmp(key, "end") == 0) {
            ck_assert_msg(cur != NULL, "%s: end outside a case", where);
            cur = NULL;
        } else {
            ck_assert_msg(cur != NULL, "%s: field outside a case", where);
            cur->fields = xrealloc(cur->fields, (cur->nfields + 1) * sizeof *cur->fields);
            tv_field *f = &cur->fields[cur->nfields++];
            memset(f, 0, sizeof *f);
            size_t klen = strlen(key);
            if (klen > 2 && strcmp(key + klen - 2, "[]") == 0) {
                key[klen - 2] = '\0';
                f->key = xstrdup(key);
                parse_array(f, rest, where);
            } else {
                f->key = xstrdup(key);
                f->text = xstrdup(rest);
            }
        }
    }
    free(line);
    fclose(fp);
    ck_assert_msg(cur == NULL, "%s: last case has no end", path);
    ck_assert_msg(out->ncases > 0, "%s: no cases", path);
}

void tv_free(tv_file *f)
{
    for (size_t i = 0; i < f->ncases; i++) {
        tv_case *c = &f->cases[i];
        for (size_t j = 0; j < c->nfields; j++) {
            free(c->fields[j].key);
            free(c->fields[j].text);
            free(c->fields[j].v);
        }
        free(c->fields);
        free(c->name);
    }
    free(f->cases);
    memset(f, 0, sizeof *f);
}

static const tv_field *find(const tv_case *c, const char *key)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (strcmp(c->fields[i].key, key) == 0)
            return &c->fields[i];
    return NULL;
}

int tv_has(const tv_case *c, const char *key)
{
    return find(c, key) != NULL;
}

double tv_num(const tv_case *c, const char *key)
{
    const tv_field *f = find(c, key);
    ck_assert_msg(f && !f->is_array, "%s: no scalar '%s'", c->name, key);
    return parse_num(f->text, c->name);
}

const char *tv_str(const tv_case *c, const char *key)
{
    const tv_field *f = find(c, key);
    ck_assert_msg(f && !f->is_array, "%s: no field '%s'", c->name, key);
    return f->text;
}

const double *tv_arr(const tv_case *c, const char *key, size_t *n)
{
    const tv_field *f = find(c, key);
    ck_assert_msg(f && f->is_array, "%s: no array '%s'", c->name, key);
    *n = f->n;
    return f->v;
}

int tv_close(double got, double want, double rel, double abs)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    if (isnan(got) || isinf(got))
        return 0;
    double tol = fabs(want) * rel;
    if (tol < abs)
        tol = abs;
    return fabs(got - want) <= tol;
}
