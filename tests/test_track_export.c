/* Tracking export: CRC-32C, TensorBoard event files, MLflow's mlruns layout,
 * CSV. The expectations are independent of the writers: a bitwise CRC, a
 * small TFRecord/protobuf reader, byte strings from docs/EXPORT-FORMATS.md,
 * Python's own repr() strings, and (when PyYAML is importable) MLflow's
 * YAML loader reading the meta.yaml files. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mlops/track.h"
#include "testutil.h"
#include "common/fault.h"
#include "track/crc32c.h"
#include "common/export_text.h"

/* ---- an independent CRC-32C: one bit at a time ------------------------ */

static uint32_t ref_crc32c(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

static uint32_t ref_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

START_TEST(crc32c_vectors)
{
    ck_assert_uint_eq(mlops__crc32c(0, "123456789", 9), 0xe3069283u);
    unsigned char zeros[32] = {0};
    ck_assert_uint_eq(mlops__crc32c(0, zeros, 32), 0x8a9136aau);
    ck_assert_uint_eq(mlops__crc32c(0, "", 0), 0);
    /* RFC 3720 B.4: 32 bytes of 0xff, and 0..31 ascending */
    unsigned char buf[32];
    memset(buf, 0xff, sizeof buf);
    ck_assert_uint_eq(mlops__crc32c(0, buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    ck_assert_uint_eq(mlops__crc32c(0, buf, 32), 0x46dd794eu);
    /* masked_crc.rs: bytes from a real TF event file */
    ck_assert_uint_eq(mlops__crc32c_mask(mlops__crc32c(0, "\x1a\x11" "CRC test, one two", 19)), 0x5794d08au);
}
END_TEST

/* every length and alignment around the 8-byte step, and split calls */
START_TEST(crc32c_matches_bitwise)
{
    unsigned char data[300];
    tu_fill_random(data, sizeof data, 7);
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof data; len += (len < 40 ? 1 : 37)) {
            uint32_t want = ref_crc32c(data + off, len);
            ck_assert_uint_eq(mlops__crc32c(0, data + off, len), want);
            size_t cut = len / 3;
            ck_assert_uint_eq(mlops__crc32c(mlops__crc32c(0, data + off, cut), data + off + cut, len - cut), want);
        }
    ck_assert_uint_eq(mlops__crc32c_mask(0x12345678u), ref_mask(0x12345678u));
}
END_TEST

/* ---- Python's repr(float), as MLflow writes metric values ------------- */

START_TEST(pyfloat_repr)
{
    static const struct {
        double v;
        const char *repr; /* python3 -c 'print(repr(v))' */
    } cases[] = {
        {0.0, "0.0"},           {-0.0, "-0.0"},
        {0.01, "0.01"},         {0.1 + 0.2, "0.30000000000000004"},
        {1e-05, "1e-05"},       {0.0001, "0.0001"},
        {1e16, "1e+16"},        {1e15, "1000000000000000.0"},
        {123.456, "123.456"},   {100.0, "100.0"},
        {-2.5e-300, "-2.5e-300"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {1.0 / 3.0, "0.3333333333333333"}, {123456789012345678.0, "1.2345678901234568e+17"},
    };
    char out[MLOPS__PYFLOAT_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mlops__export_pyfloat(out, cases[i].v);
        ck_assert_str_eq(out, cases[i].repr);
    }
    mlops__export_pyfloat(out, NAN);
    ck_assert_str_eq(out, "nan");
    mlops__export_pyfloat(out, -NAN);
    ck_assert_str_eq(out, "nan");
    mlops__export_pyfloat(out, INFINITY);
    ck_assert_str_eq(out, "inf");
    mlops__export_pyfloat(out, -INFINITY);
    ck_assert_str_eq(out, "-inf");
}
END_TEST

/* ---- a run to export -------------------------------------------------- */

#define T0 1700000000000LL

typedef struct fixture {
    tu_store t;
    char *tmp;            /* scratch directory for outputs */
    char exp_id[MLOPS_EXPERIMENT_ID_MAX + 1];
    char run_id[MLOPS_RUN_ID_HEXSZ + 1];
    char child_id[MLOPS_RUN_ID_HEXSZ + 1];
    char failed_id[MLOPS_RUN_ID_HEXSZ + 1];
    char running_id[MLOPS_RUN_ID_HEXSZ + 1];
} fixture;

#define OK(expr)                                                                       \
    do {                                                                               \
        int rc_ = (expr);                                                              \
        ck_assert_msg(rc_ == 0, "%s: %d %s", #expr, rc_, mlops_error_last());          \
    } while (0)

static mlops_run *start(fixture *f, const char *name, const char *parent, const mlops_kv *tags, size_t ntags)
{
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.run_name = name;
    o.parent_run_id = parent;
    o.tags = tags;
    o.ntags = ntags;
    o.start_time = T0;
    mlops_run *r = NULL;
    OK(mlops_run_start(&r, f->t.s, f->exp_id, &o));
    return r;
}

/*
 * The main run "run-1": params lr=0.01 and model/depth=3, tag team=ml,
 * metrics acc (0.5, 0.75, NaN at steps 0..2) and loss (1e-05, 0.5, -inf;
 * its step-1 point is the worked TensorBoard example of the doc: t =
 * 1700000000.5 s, "loss", 0.5), an artifact model.bin; ended FINISHED.
 * Then a nested child run, a FAILED run and a RUNNING one.
 */
static void fixture_setup(fixture *f, int kind)
{
    memset(f, 0, sizeof *f);
    tu_store_open(&f->t, kind, NULL);
    f->tmp = tu_mkdtemp();
    mlops_experiment *e = NULL;
    OK(mlops_experiment_create(&e, f->t.s, "exp-a"));
    snprintf(f->exp_id, sizeof f->exp_id, "%s", e->id);
    mlops_experiment_free(e);
    OK(mlops_experiment_set_tag(f->t.s, f->exp_id, "owner", "it's me"));

    mlops_kv tag = {"team", "ml"};
    mlops_run *r = start(f, "run-1", NULL, &tag, 1);
    snprintf(f->run_id, sizeof f->run_id, "%s", mlops_run_id(r));
    OK(mlops_run_log_param(r, "lr", "0.01"));
    OK(mlops_run_log_param(r, "model/depth", "3"));
    OK(mlops_run_log_metric(r, "acc", 0.5, 0, 1000));
    OK(mlops_run_log_metric(r, "acc", 0.75, 1, 2000));
    OK(mlops_run_log_metric(r, "acc", NAN, 2, 3000));
    double lv[] = {1e-05, 0.5, -INFINITY};
    int64_t ls[] = {0, 1, 2};
    int64_t lt[] = {1000, T0 + 500, 5000};
    OK(mlops_run_log_metric_batch(r, "loss", lv, ls, lt, 3));
    char *art = tu_path("%s/model.bin", f->tmp);
    tu_write_file(art, "weights\n", 8);
    OK(mlops_run_log_artifact(NULL, r, art, NULL));
    free(art);
    OK(mlops_run_end(r, MLOPS_RUN_FINISHED));
    mlops_run_free(r);

    r = start(f, "child", f->run_id, NULL, 0);
    snprintf(f->child_id, sizeof f->child_id, "%s", mlops_run_id(r));
    OK(mlops_run_end(r, MLOPS_RUN_FINISHED));
    mlops_run_free(r);

    r = start(f, "bad", NULL, NULL, 0);
    snprintf(f->failed_id, sizeof f->failed_id, "%s", mlops_run_id(r));
    OK(mlops_run_end(r, MLOPS_RUN_FAILED));
    mlops_run_free(r);

    r = start(f, "live", NULL, NULL, 0);
    snprintf(f->running_id, sizeof f->running_id, "%s", mlops_run_id(r));
    OK(mlops_run_flush(r));
    mlops_run_free(r); /* not ended: stays RUNNING */
}

static void fixture_teardown(fixture *f)
{
    tu_rmrf(f->tmp);
    free(f->tmp);
    tu_store_destroy(&f->t);
}

/* no temp file left anywhere below dir */
static void assert_no_temp_files(const char *dir)
{
    char *files[512];
    size_t n = tu_list_files(dir, files, 512);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(!strstr(files[i], ".mlops-tmp-"), "left over: %s", files[i]);
    tu_free_list(files, n);
}

/* ---- TensorBoard: a reader of our own ---------------------------------- */

typedef struct pb_field {
    unsigned num, wire;
    uint64_t v;             /* varint, fixed64, fixed32 */
    const unsigned char *p; /* length-delimited */
    size_t len;
} pb_field;

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads the next field of a message; 0 at its end. */
static int pb_next(pb_field *f, const unsigned char **p, const unsigned char *end)
{
    if (*p == end)
        return 0;
    uint64_t key = 0, v = 0;
    int shift = 0;
    while (1) {
        ck_assert(*p < end);
        unsigned char c = *(*p)++;
        key |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
        if (!(c & 0x80))
            break;
    }
    f->num = (unsigned)(key >> 3);
    f->wire = (unsigned)(key & 7);
    f->p = NULL;
    f->len = 0;
    switch (f->wire) {
    case 0:
    case 2:
        shift = 0;
        while (1) {
            ck_assert(*p < end);
            unsigned char c = *(*p)++;
            ck_assert_int_lt(shift, 64);
            v |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        f->v = v;
        if (f->wire == 2) {
            ck_assert_uint_le(v, (uint64_t)(end - *p));
            f->p = *p;
            f->len = (size_t)v;
            *p += v;
        }
        return 1;
    case 1:
        ck_assert_int_ge(end - *p, 8);
        f->v = le(*p, 8);
        *p += 8;
        return 1;
    case 5:
        ck_assert_int_ge(end - *p, 4);
        f->v = le(*p, 4);
        *p += 4;
        return 1;
    default:
        ck_abort_msg("unexpected wire type %u", f->wire);
        return 0;
    }
}

typedef struct tb_event {
    double wall_time;
    int64_t step;
    char file_version[32];
    char tag[256];
    float value;
    int has_value;
} tb_event;

static double as_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static void parse_event(tb_event *ev, const unsigned char *p, size_t len)
{
    memset(ev, 0, sizeof *ev);
    const unsigned char *end = p + len;
    pb_field f, g, h;
    while (pb_next(&f, &p, end)) {
        if (f.num == 1 && f.wire == 1)
            ev->wall_time = as_double(f.v);
        else if (f.num == 2 && f.wire == 0)
            ev->step = (int64_t)f.v;
        else if (f.num == 3 && f.wire == 2) {
            ck_assert_uint_lt(f.len, sizeof ev->file_version);
            memcpy(ev->file_version, f.p, f.len);
        } else if (f.num == 5 && f.wire == 2) {
            const unsigned char *q = f.p;
            while (pb_next(&g, &q, f.p + f.len)) {
                ck_assert_uint_eq(g.num, 1); /* Summary.value */
                ck_assert_uint_eq(g.wire, 2);
                ck_assert_int_eq(ev->has_value, 0);
                const unsigned char *r = g.p;
                while (pb_next(&h, &r, g.p + g.len)) {
                    if (h.num == 1 && h.wire == 2) {
                        ck_assert_uint_lt(h.len, sizeof ev->tag);
                        memcpy(ev->tag, h.p, h.len);
                    } else if (h.num == 2 && h.wire == 5) {
                        uint32_t bits = (uint32_t)h.v;
                        memcpy(&ev->value, &bits, 4);
                        ev->has_value = 1;
                    } else {
                        ck_abort_msg("unexpected Value field %u", h.num);
                    }
                }
            }
        } else {
            ck_abort_msg("unexpected Event field %u wire %u", f.num, f.wire);
        }
    }
}

/* Splits a TFRecord file, checking both masked CRCs of every record. */
static size_t read_records(const unsigned char *data, size_t len, tb_event *out, size_t cap)
{
    size_t n = 0, off = 0;
    while (off < len) {
        ck_assert_uint_ge(len - off, 12);
        uint64_t rlen = le(data + off, 8);
        ck_assert_uint_eq(le(data + off + 8, 4), ref_mask(ref_crc32c(data + off, 8)));
        ck_assert_uint_ge(len - off - 12, rlen + 4);
        const unsigned char *rec = data + off + 12;
        ck_assert_uint_eq(le(rec + rlen, 4), ref_mask(ref_crc32c(rec, (size_t)rlen)));
        ck_assert_uint_lt(n, cap);
        parse_event(&out[n++], rec, (size_t)rlen);
        off += 12 + (size_t)rlen + 4;
    }
    return n;
}

/* The one file in dir whose name holds "tfevents" (malloc'd path). */
static char *find_event_file(const char *dir, const char **name_out)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        ck_assert_msg(strstr(e->d_name, "tfevents") != NULL, "stray file %s", e->d_name);
        ck_assert_msg(found == NULL, "two event files");
        found = tu_path("%s/%s", dir, e->d_name);
    }
    closedir(d);
    ck_assert_ptr_nonnull(found);
    if (name_out)
        *name_out = strrchr(found, '/') + 1;
    return found;
}

START_TEST(tensorboard_file)
{
    fixture f;
    fixture_setup(&f, _i);
    char *dest = tu_path("%s/tb/run1", f.tmp); /* parents are created */
    /* Not time(): glibc reads the coarse clock, which can lag the
     * CLOCK_REALTIME seconds the exporter puts in the name by a tick. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t before = ts.tv_sec;
    OK(mlops_export_tensorboard(f.t.s, f.run_id, dest));
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t after = ts.tv_sec;
    const char *name;
    char *path = find_event_file(dest, &name);

    /* events.out.tfevents.<%010d seconds>.<host>.<pid>.0 */
    char host[256] = "";
    gethostname(host, sizeof host);
    long long secs = 0;
    char rest[600];
    ck_assert_int_eq(sscanf(name, "events.out.tfevents.%10lld.%599s", &secs, rest), 2);
    ck_assert_int_eq(strlen("events.out.tfevents.") + 10, strchr(name + 20, '.') - name);
    ck_assert(secs >= before && secs <= after);
    char *tail = tu_path("%s.%ld.0", host, (long)getpid());
    ck_assert_str_eq(rest, tail);
    free(tail);

    size_t len = 0;
    unsigned char *data = (unsigned char *)tu_read_file(path, &len);
    /* The doc's worked example, byte for byte (loss, step 1, t 1700000000.5,
     * 0.5; the double is struct.pack('<d', 1700000000.5)); checked before
     * read_records, which parses in place. */
    static const unsigned char example[] = {
        0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x9b, 0xd8, 0x2d, 0x09, 0x00, 0x00, 0x20,
        0x40, 0xfc, 0x54, 0xd9, 0x41, 0x10, 0x01, 0x2a, 0x0d, 0x0a, 0x0b, 0x0a, 0x04, 0x6c, 0x6f, 0x73,
        0x73, 0x15, 0x00, 0x00, 0x00, 0x3f, 0x34, 0xc2, 0x79, 0x3e};
    ck_assert_ptr_nonnull(memmem(data, len, example, sizeof example));
    tb_event ev[16];
    size_t n = read_records(data, len, ev, 16);
    ck_assert_uint_eq(n, 1 + 6);
    ck_assert_str_eq(ev[0].file_version, "brain.Event:2");
    ck_assert(ev[0].wall_time >= (double)before && ev[0].wall_time <= (double)after + 1);
    ck_assert_int_eq(ev[0].has_value, 0);

    /* keys in sorted order, each in step order */
    static const struct {
        const char *tag;
        int64_t step;
        double wall;
        float value;
    } want[] = {
        {"acc", 0, 1.0, 0.5f},  {"acc", 1, 2.0, 0.75f}, {"acc", 2, 3.0, NAN},
        {"loss", 0, 1.0, 1e-05f}, {"loss", 1, 1700000000.5, 0.5f}, {"loss", 2, 5.0, -INFINITY},
    };
    for (size_t i = 0; i < 6; i++) {
        const tb_event *e = &ev[i + 1];
        ck_assert_str_eq(e->tag, want[i].tag);
        ck_assert_int_eq(e->step, want[i].step);
        ck_assert(e->wall_time == want[i].wall);
        ck_assert_int_eq(e->has_value, 1);
        if (isnan(want[i].value))
            ck_assert(isnan(e->value));
        else
            ck_assert(e->value == want[i].value);
        ck_assert_str_eq(e->file_version, "");
    }


    /* a second export in the same directory sits next to the first */
    OK(mlops_export_tensorboard(f.t.s, f.run_id, dest));
    char *files[8];
    size_t nfiles = tu_list_files(dest, files, 8);
    ck_assert_uint_eq(nfiles, 2);
    tu_free_list(files, nfiles);

    free(data);
    free(path);
    free(dest);
    fixture_teardown(&f);
}
END_TEST

START_TEST(tensorboard_negative_step_and_empty_run)
{
    fixture f;
    fixture_setup(&f, TU_MEMORY);
    mlops_run *r = NULL;
    OK(mlops_run_resume(&r, f.t.s, f.running_id));
    OK(mlops_run_log_metric(r, "x/y", 2.0, -3, 42));
    OK(mlops_run_flush(r));
    mlops_run_free(r);
    char *dest = tu_path("%s/neg", f.tmp);
    OK(mlops_export_tensorboard(f.t.s, f.running_id, dest));
    char *path = find_event_file(dest, NULL);
    size_t len;
    unsigned char *data = (unsigned char *)tu_read_file(path, &len);
    tb_event ev[4];
    ck_assert_uint_eq(read_records(data, len, ev, 4), 2);
    ck_assert_str_eq(ev[1].tag, "x/y");
    ck_assert_int_eq(ev[1].step, -3); /* int64 varint: ten bytes, two's complement */
    ck_assert(ev[1].wall_time == 0.042);
    free(data);
    free(path);
    free(dest);

    /* a run without metrics: just the version event */
    dest = tu_path("%s/empty", f.tmp);
    OK(mlops_export_tensorboard(f.t.s, f.child_id, dest));
    path = find_event_file(dest, NULL);
    data = (unsigned char *)tu_read_file(path, &len);
    ck_assert_uint_eq(read_records(data, len, ev, 4), 1);
    ck_assert_str_eq(ev[0].file_version, "brain.Event:2");
    free(data);
    free(path);
    free(dest);
    fixture_teardown(&f);
}
END_TEST

/* ---- MLflow ----------------------------------------------------------- */

static void assert_file(const char *path, const char *want)
{
    size_t len = 0;
    char *got = tu_read_file(path, &len);
    ck_assert_msg(got != NULL, "missing %s", path);
    ck_assert_msg(len == strlen(want) && memcmp(got, want, len) == 0, "%s:\n got [%s]\nwant [%s]", path, got, want);
    free(got);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* meta.yaml of a run, spelled out here from MLflow's FileStore format */
static char *expected_run_meta(mlops_store *s, const char *root, const char *exp_id, const char *run_id)
{
    mlops_run_info *info = NULL;
    OK(mlops_run_get(&info, s, run_id));
    char end[32];
    if (info->end_time > 0)
        snprintf(end, sizeof end, "%lld", (long long)info->end_time);
    else
        strcpy(end, "null");
    char *meta = tu_path("artifact_uri: 'file://%s/%s/%s/artifacts'\n"
                         "deleted_time: null\n"
                         "end_time: %s\n"
                         "entry_point_name: ''\n"
                         "experiment_id: '%s'\n"
                         "lifecycle_stage: active\n"
                         "run_id: '%s'\n"
                         "run_name: '%s'\n"
                         "run_uuid: '%s'\n"
                         "source_name: ''\n"
                         "source_type: 4\n"
                         "source_version: ''\n"
                         "start_time: %lld\n"
                         "status: %d\n"
                         "tags: []\n"
                         "user_id: '%s'\n",
                         root, exp_id, run_id, end, exp_id, run_id, info->run_name, run_id,
                         (long long)T0, info->status, info->user ? info->user : "");
    mlops_run_info_free(info);
    return meta;
}

/* Loads a YAML file with PyYAML's SafeLoader (what MLflow uses) and runs a
 * Python assertion on it as `d`; skipped when python3 or yaml is missing. */
static void yaml_check(const char *path, const char *assertion)
{
    if (system("python3 -c 'import yaml' >/dev/null 2>&1") != 0)
        return;
    /* double quotes around the program: the assertions use single quotes */
    char *cmd = tu_path("python3 -c \"import yaml,sys; d=yaml.load(open(sys.argv[1]), Loader=yaml.SafeLoader); "
                        "assert %s, d\" '%s'",
                        assertion, path);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "yaml check failed: %s", cmd);
    free(cmd);
}

START_TEST(mlflow_layout)
{
    fixture f;
    fixture_setup(&f, _i);
    char *dest = tu_path("%s/mlruns", f.tmp);
    OK(mlops_export_mlflow(f.t.s, dest, NULL, 0));
    char *root = realpath(dest, NULL);
    ck_assert_ptr_nonnull(root);

    /* the Default experiment and .trash, as FileStore creates them */
    char *p = tu_path("%s/.trash", dest);
    ck_assert(is_dir(p));
    free(p);
    p = tu_path("%s/0/meta.yaml", dest);
    size_t len;
    char *text = tu_read_file(p, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "experiment_id: '0'\n"));
    ck_assert_ptr_nonnull(strstr(text, "name: 'Default'\n"));
    ck_assert_ptr_nonnull(strstr(text, "lifecycle_stage: active\n"));
    free(text);
    yaml_check(p, "d['experiment_id']=='0' and d['name']=='Default' and type(d['creation_time']) is int");
    free(p);

    /* the experiment */
    mlops_experiment *e = NULL;
    OK(mlops_experiment_get(&e, f.t.s, f.exp_id));
    char *want = tu_path("artifact_location: 'file://%s/%s'\n"
                         "creation_time: %lld\n"
                         "experiment_id: '%s'\n"
                         "last_update_time: %lld\n"
                         "lifecycle_stage: active\n"
                         "name: 'exp-a'\n",
                         root, f.exp_id, (long long)e->creation_time, f.exp_id, (long long)e->last_update_time);
    mlops_experiment_free(e);
    p = tu_path("%s/%s/meta.yaml", dest, f.exp_id);
    assert_file(p, want);
    free(want);
    free(p);
    p = tu_path("%s/%s/tags/owner", dest, f.exp_id);
    assert_file(p, "it's me");
    free(p);

    /* the main run */
    char *run = tu_path("%s/%s/%s", dest, f.exp_id, f.run_id);
    p = tu_path("%s/meta.yaml", run);
    want = expected_run_meta(f.t.s, root, f.exp_id, f.run_id);
    assert_file(p, want);
    ck_assert_ptr_nonnull(strstr(want, "status: 3\n"));
    free(want);
    char *check = tu_path("d['status']==3 and d['experiment_id']=='%s' and d['run_id']=='%s' and d['run_name']=="
                          "'run-1' and d['start_time']==%lld and type(d['end_time']) is int and "
                          "d['deleted_time'] is None and d['tags']==[] and d['source_type']==4 and "
                          "d['lifecycle_stage']=='active'",
                          f.exp_id, f.run_id, (long long)T0);
    yaml_check(p, check);
    free(check);
    free(p);

    static const struct {
        const char *rel, *content;
    } files[] = {
        {"params/lr", "0.01"},
        {"params/model/depth", "3"},
        {"tags/team", "ml"},
        {"tags/mlflow.runName", "run-1"},
        {"metrics/acc", "1000 0.5 0\n2000 0.75 1\n3000 nan 2\n"},
        {"metrics/loss", "1000 1e-05 0\n1700000000500 0.5 1\n5000 -inf 2\n"},
        {"artifacts/model.bin", "weights\n"},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        p = tu_path("%s/%s", run, files[i].rel);
        assert_file(p, files[i].content);
        free(p);
    }
    /* MLflow's reader: line.strip().split(" "), int / float / int */
    p = tu_path("%s/metrics/loss", run);
    text = tu_read_file(p, &len);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        char ts[32], val[32], step[32], extra[4];
        ck_assert_int_eq(sscanf(line, "%31s %31s %31s %3s", ts, val, step, extra), 3);
        char *endp;
        strtoll(ts, &endp, 10);
        ck_assert(*endp == '\0');
        strtod(val, &endp);
        ck_assert(*endp == '\0');
        strtoll(step, &endp, 10);
        ck_assert(*endp == '\0');
    }
    ck_assert_int_eq(lines, 3);
    free(text);
    free(p);
    mlops_run_info *info = NULL;
    OK(mlops_run_get(&info, f.t.s, f.run_id));
    if (info->user && *info->user) {
        p = tu_path("%s/tags/mlflow.user", run);
        assert_file(p, info->user);
        free(p);
    }
    mlops_run_info_free(info);
    p = tu_path("%s/tags/mlflow.parentRunId", run);
    ck_assert(!tu_exists(p));
    free(p);
    free(run);

    /* the nested run points to its parent; the failed and running ones */
    p = tu_path("%s/%s/%s/tags/mlflow.parentRunId", dest, f.exp_id, f.child_id);
    assert_file(p, f.run_id);
    free(p);
    p = tu_path("%s/%s/%s/meta.yaml", dest, f.exp_id, f.failed_id);
    want = expected_run_meta(f.t.s, root, f.exp_id, f.failed_id);
    ck_assert_ptr_nonnull(strstr(want, "status: 4\n"));
    assert_file(p, want);
    free(want);
    free(p);
    p = tu_path("%s/%s/%s/meta.yaml", dest, f.exp_id, f.running_id);
    want = expected_run_meta(f.t.s, root, f.exp_id, f.running_id);
    ck_assert_ptr_nonnull(strstr(want, "end_time: null\n"));
    ck_assert_ptr_nonnull(strstr(want, "status: 1\n"));
    assert_file(p, want);
    yaml_check(p, "d['status']==1 and d['end_time'] is None");
    free(want);
    free(p);
    /* create_run's empty directories */
    p = tu_path("%s/%s/%s/metrics", dest, f.exp_id, f.child_id);
    ck_assert(is_dir(p));
    free(p);
    p = tu_path("%s/%s/%s/artifacts", dest, f.exp_id, f.child_id);
    ck_assert(is_dir(p));
    free(p);
    assert_no_temp_files(dest);

    /* a second export over the first gives the same files */
    char *before = tu_tree(dest);
    OK(mlops_export_mlflow(f.t.s, dest, NULL, 0));
    char *again = tu_tree(dest);
    ck_assert_str_eq(before, again);
    free(before);
    free(again);

    free(root);
    free(dest);
    fixture_teardown(&f);
}
END_TEST

START_TEST(mlflow_selection_and_trash)
{
    fixture f;
    fixture_setup(&f, TU_MEMORY);
    mlops_experiment *e = NULL;
    OK(mlops_experiment_create(&e, f.t.s, "other"));
    char other[MLOPS_EXPERIMENT_ID_MAX + 1];
    snprintf(other, sizeof other, "%s", e->id);
    mlops_experiment_free(e);

    /* only "other" (by name), twice: exp-a is not written; Default is */
    char *dest = tu_path("%s/sel", f.tmp);
    const char *ids[] = {"other", other};
    OK(mlops_export_mlflow(f.t.s, dest, ids, 2));
    char *p = tu_path("%s/%s/meta.yaml", dest, other);
    ck_assert(tu_exists(p));
    free(p);
    p = tu_path("%s/%s", dest, f.exp_id);
    ck_assert(!tu_exists(p));
    free(p);
    p = tu_path("%s/0/meta.yaml", dest);
    ck_assert(tu_exists(p));
    free(p);
    free(dest);

    /* a deleted experiment goes to .trash with lifecycle_stage deleted */
    OK(mlops_experiment_delete(f.t.s, f.exp_id));
    dest = tu_path("%s/all", f.tmp);
    OK(mlops_export_mlflow(f.t.s, dest, NULL, 0));
    p = tu_path("%s/.trash/%s/meta.yaml", dest, f.exp_id);
    size_t len;
    char *text = tu_read_file(p, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "lifecycle_stage: deleted\n"));
    free(text);
    free(p);
    p = tu_path("%s/.trash/%s/%s/params/lr", dest, f.exp_id, f.run_id);
    assert_file(p, "0.01");
    free(p);
    p = tu_path("%s/%s", dest, f.exp_id);
    ck_assert(!tu_exists(p));
    free(p);
    free(dest);

    /* errors */
    dest = tu_path("%s/err", f.tmp);
    const char *unknown[] = {"no-such-experiment"};
    tu_assert_err(mlops_export_mlflow(f.t.s, dest, unknown, 1), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_export_mlflow(NULL, dest, NULL, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_export_mlflow(f.t.s, NULL, NULL, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_export_mlflow(f.t.s, "", NULL, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_export_mlflow(f.t.s, dest, NULL, 1), MLOPS_EINVALID);
    ck_assert(!tu_exists(dest));
    free(dest);
    fixture_teardown(&f);
}
END_TEST

/* ---- CSV -------------------------------------------------------------- */

START_TEST(csv_contents)
{
    fixture f;
    fixture_setup(&f, _i);
    char *dest = tu_path("%s/run.csv", f.tmp);
    OK(mlops_export_csv(f.t.s, f.run_id, dest));
    assert_file(dest, "key,step,timestamp,value\n"
                      "acc,0,1000,0.5\n"
                      "acc,1,2000,0.75\n"
                      "acc,2,3000,nan\n"
                      "loss,0,1000,1.0000000000000001e-05\n"
                      "loss,1,1700000000500,0.5\n"
                      "loss,2,5000,-inf\n");
    /* replaced as a whole on a second export */
    OK(mlops_export_csv(f.t.s, f.run_id, dest));
    assert_no_temp_files(f.tmp);
    free(dest);

    /* a run without metrics: the header alone */
    dest = tu_path("%s/empty.csv", f.tmp);
    OK(mlops_export_csv(f.t.s, f.child_id, dest));
    assert_file(dest, "key,step,timestamp,value\n");
    free(dest);
    fixture_teardown(&f);
}
END_TEST

START_TEST(export_bad_input)
{
    fixture f;
    fixture_setup(&f, TU_MEMORY);
    char *dest = tu_path("%s/x.csv", f.tmp);
    const char *missing = "0123456789abcdef0123456789abcdef";
    tu_assert_err(mlops_export_csv(f.t.s, missing, dest), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_export_csv(NULL, f.run_id, dest), MLOPS_EINVALID);
    tu_assert_err(mlops_export_csv(f.t.s, NULL, dest), MLOPS_EINVALID);
    tu_assert_err(mlops_export_csv(f.t.s, f.run_id, NULL), MLOPS_EINVALID);
    ck_assert(!tu_exists(dest));
    free(dest);
    dest = tu_path("%s/no/such/dir/x.csv", f.tmp);
    int rc = mlops_export_csv(f.t.s, f.run_id, dest);
    ck_assert_int_lt(rc, 0);
    ck_assert(!tu_exists(dest));
    free(dest);
    dest = tu_path("%s/tb", f.tmp);
    tu_assert_err(mlops_export_tensorboard(f.t.s, missing, dest), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_export_tensorboard(f.t.s, f.run_id, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_export_tensorboard(NULL, f.run_id, dest), MLOPS_EINVALID);
    ck_assert_uint_eq(tu_count_files(dest), 0);
    free(dest);
    /* a destination that is a file */
    dest = tu_path("%s/file", f.tmp);
    tu_write_file(dest, "x", 1);
    ck_assert_int_lt(mlops_export_tensorboard(f.t.s, f.run_id, dest), 0);
    ck_assert_int_lt(mlops_export_mlflow(f.t.s, dest, NULL, 0), 0);
    free(dest);
    fixture_teardown(&f);
}
END_TEST

/* I/O faults (the nth write, or rename/link): each export fails with an
 * error, leaves no temp file, and a later export succeeds. */
START_TEST(export_io_faults)
{
    fixture f;
    fixture_setup(&f, TU_MEMORY);
    static const mlops__fault_kind kinds[] = {MLOPS__FAULT_WRITE, MLOPS__FAULT_RENAME};
    for (size_t k = 0; k < 2; k++) {
        for (int which = 0; which < 3; which++) {
            int done = 0;
            for (unsigned long n = 1; !done && n < 200; n++) {
                char *out = tu_path("%s/f%zu-%d-%lu", f.tmp, k, which, n);
                char *csv = tu_path("%s.csv", out);
                mlops__fault_arm(kinds[k], n, EIO);
                int rc = which == 0   ? mlops_export_csv(f.t.s, f.run_id, csv)
                         : which == 1 ? mlops_export_tensorboard(f.t.s, f.run_id, out)
                                      : mlops_export_mlflow(f.t.s, out, NULL, 0);
                mlops__fault_reset();
                if (rc == 0) {
                    done = 1;
                } else {
                    ck_assert_int_lt(rc, 0);
                    ck_assert_str_ne(mlops_error_last(), "");
                    if (which == 0)
                        ck_assert(!tu_exists(csv));
                    if (which == 1)
                        ck_assert_uint_eq(tu_count_files(out), 0);
                }
                assert_no_temp_files(f.tmp);
                tu_rmrf(out);
                unlink(csv);
                free(csv);
                free(out);
            }
            ck_assert_msg(done, "kind %zu export %d never succeeded", k, which);
        }
    }
    fixture_teardown(&f);
}
END_TEST

static Suite *track_export_suite(void)
{
    Suite *s = suite_create("track_export");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, crc32c_vectors);
    tcase_add_test(tc, crc32c_matches_bitwise);
    tcase_add_test(tc, pyfloat_repr);
    suite_add_tcase(s, tc);
    tc = tcase_create("export");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, tensorboard_file, 0, TU_KINDS);
    tcase_add_test(tc, tensorboard_negative_step_and_empty_run);
    tcase_add_loop_test(tc, mlflow_layout, 0, TU_KINDS);
    tcase_add_test(tc, mlflow_selection_and_trash);
    tcase_add_loop_test(tc, csv_contents, 0, TU_KINDS);
    tcase_add_test(tc, export_bad_input);
    tcase_add_test(tc, export_io_faults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(track_export_suite());
}
