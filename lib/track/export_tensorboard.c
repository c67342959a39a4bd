/*
 * A run's metrics as one TensorBoard event file (docs/EXPORT-FORMATS.md §4).
 *
 * The file is a sequence of TFRecords (u64 LE length, masked CRC-32C of
 * those 8 bytes, the data, masked CRC-32C of the data), each holding one
 * protobuf Event. The first Event carries file_version "brain.Event:2":
 * with it TensorBoard does not purge points whose steps go backwards,
 * which happens here because keys are written one after the other. Every
 * metric point becomes Event{wall_time, step, summary{value{tag,
 * simple_value}}}; TensorBoard migrates simple_value to its scalars plugin
 * by itself. simple_value is a float: doubles lose precision (that is the
 * format's limit, not ours).
 *
 * The protobuf is encoded by hand: six fields of three wire types do not
 * justify a protobuf dependency.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "common/export_util.h"
#include "track_internal.h"

/* protobuf keys: field number << 3 | wire type (0 varint, 1 64-bit,
 * 2 length-delimited, 5 32-bit) */
#define EV_WALL_TIME 0x09    /* Event.wall_time, double */
#define EV_STEP 0x10         /* Event.step, int64 */
#define EV_FILE_VERSION 0x1a /* Event.file_version, string */
#define EV_SUMMARY 0x2a      /* Event.summary, message */
#define SUM_VALUE 0x0a       /* Summary.value, repeated message */
#define VAL_TAG 0x0a         /* Summary.Value.tag, string */
#define VAL_SIMPLE 0x15      /* Summary.Value.simple_value, float */

/* An encoded Event never exceeds this: a key is at most 250 bytes, the
 * rest is at most 9 + 11 + 3 + 3 + 3 + 5 bytes. Keys are checked. */
#define EVENT_MAX 512

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static size_t put_le(unsigned char *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return bytes;
}

static size_t put_double(unsigned char *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return put_le(p, bits, 8);
}

static size_t put_float(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_le(p, bits, 4);
}

/* Event{wall_time, step, summary{value{tag, simple_value}}}. */
static size_t encode_scalar(unsigned char *out, double wall_time, int64_t step, const char *tag, size_t tag_len,
                            double value)
{
    unsigned char val[EVENT_MAX], sum[EVENT_MAX];
    size_t nv = 0, ns = 0, n = 0;
    val[nv++] = VAL_TAG;
    nv += put_varint(val + nv, tag_len);
    memcpy(val + nv, tag, tag_len);
    nv += tag_len;
    val[nv++] = VAL_SIMPLE;
    nv += put_float(val + nv, (float)value);

    sum[ns++] = SUM_VALUE;
    ns += put_varint(sum + ns, nv);
    memcpy(sum + ns, val, nv);
    ns += nv;

    out[n++] = EV_WALL_TIME;
    n += put_double(out + n, wall_time);
    if (step != 0) { /* proto3 leaves default values out */
        out[n++] = EV_STEP;
        n += put_varint(out + n, (uint64_t)step); /* int64: negatives take 10 bytes */
    }
    out[n++] = EV_SUMMARY;
    n += put_varint(out + n, ns);
    memcpy(out + n, sum, ns);
    return n + ns;
}

static size_t encode_file_version(unsigned char *out, double wall_time)
{
    static const char version[] = "brain.Event:2";
    size_t n = 0;
    out[n++] = EV_WALL_TIME;
    n += put_double(out + n, wall_time);
    out[n++] = EV_FILE_VERSION;
    n += put_varint(out + n, sizeof version - 1);
    memcpy(out + n, version, sizeof version - 1);
    return n + sizeof version - 1;
}

/* Appends one TFRecord framing data. */
static int put_record(mlops__export_file *f, const unsigned char *data, size_t len)
{
    unsigned char head[12], tail[4];
    put_le(head, len, 8);
    put_le(head + 8, mlops__crc32c_mask(mlops__crc32c(0, head, 8)), 4);
    put_le(tail, mlops__crc32c_mask(mlops__crc32c(0, data, len)), 4);
    MLOPS__TRY(mlops__buf_put(&f->buf, head, sizeof head));
    MLOPS__TRY(mlops__buf_put(&f->buf, data, len));
    MLOPS__TRY(mlops__buf_put(&f->buf, tail, sizeof tail));
    return mlops__export_file_maybe_drain(f);
}

static int write_key(mlops__export_file *f, mlops_store *store, const char *run_id, const char *key)
{
    size_t key_len = strlen(key);
    if (key_len > MLOPS_KEY_MAX)
        return mlops__error_set(MLOPS_ECORRUPT, "export_tensorboard: metric key of %zu bytes", key_len);
    mlops_metric_history h;
    memset(&h, 0, sizeof h);
    int rc = mlops_metric_history_get(&h, store, run_id, key, NULL);
    unsigned char ev[EVENT_MAX];
    for (size_t i = 0; rc == 0 && i < h.n; i++) {
        size_t n = encode_scalar(ev, (double)h.timestamps[i] / 1000.0, h.steps[i], key, key_len, h.values[i]);
        rc = put_record(f, ev, n);
    }
    mlops_metric_history_free(&h);
    return rc;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* TensorBoard's own name, events.out.tfevents.<%010d seconds>.<host>.<pid>.<uid>,
 * where uid (a per-process counter in TensorBoard) is the first number not
 * yet taken in dest: two exports within a second then sit side by side
 * instead of one replacing the other. */
static int publish(mlops__export_file *f, const char *dest, double wall_time)
{
    char host[256];
    if (gethostname(host, sizeof host) < 0 || !host[0])
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/')
            *c = '_';
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = mlops__export_file_close(f);
    for (unsigned uid = 0; rc == 0; uid++) {
        mlops__buf_clear(&path);
        rc = mlops__buf_printf(&path, "%s/events.out.tfevents.%010lld.%s.%ld.%u", dest, (long long)wall_time, host,
                               (long)getpid(), uid);
        if (rc == 0)
            rc = mlops__export_file_link(f, path.ptr);
        if (rc == MLOPS_EEXISTS && uid < 1000)
            rc = 0;
        else if (rc == MLOPS_EEXISTS)
            rc = mlops__error_set(MLOPS_EEXISTS, "export_tensorboard: '%s' and 999 more exist", path.ptr);
        else if (rc == 0)
            break;
    }
    mlops__export_file_abort(f);
    mlops__buf_dispose(&path);
    return rc;
}

int mlops_export_tensorboard(mlops_store *store, const char *run_id, const char *dest)
{
    if (!store || !run_id || !dest || !*dest)
        return mlops__error_set(MLOPS_EINVALID, "export_tensorboard: store, run id and destination are required");
    char **keys = NULL;
    size_t nkeys = 0;
    int rc = mlops_metric_keys(&keys, &nkeys, store, run_id);
    if (rc < 0)
        return rc;
    mlops__export_file f;
    rc = mlops__export_mkdir(dest);
    if (rc == 0)
        rc = mlops__export_file_open(&f, dest);
    if (rc < 0)
        goto done;
    double wall_time = now_seconds();
    unsigned char ev[EVENT_MAX];
    rc = put_record(&f, ev, encode_file_version(ev, wall_time));
    for (size_t k = 0; rc == 0 && k < nkeys; k++)
        rc = write_key(&f, store, run_id, keys[k]);
    if (rc == 0)
        rc = publish(&f, dest, wall_time);
    else
        mlops__export_file_abort(&f);
done:
    mlops_string_list_free(keys, nkeys);
    return rc;
}
