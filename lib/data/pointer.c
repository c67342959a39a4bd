/*
 * Pointer files (docs/FORMAT-data-datasets.md, "Pointer files"): a small
 * text file that pins a dataset version in a git repository, like a .dvc
 * file or a git-lfs pointer:
 *
 *   mlops-pointer 1
 *   dataset images
 *   version 3
 *   id 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *   size 1048576
 *   files 12
 *
 * LF endings, one space between key and value. The parser is strict:
 * whatever it accepts, the writer could have written (in some key order),
 * so a hand edit or a merge that broke the file is reported, never
 * half-understood. "dataset" and "version" are left out together for a
 * bare snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "data_internal.h"
#include "store/object_io.h"
#include "version_record.h"

#define POINTER_MAGIC "mlops-pointer 1"
#define POINTER_MAX 65536 /* bytes: far above any real pointer, small enough to read whole */

enum { K_DATASET, K_VERSION, K_ID, K_SIZE, K_FILES, NKEYS };
static const char *const key_names[NKEYS] = { "dataset", "version", "id", "size", "files" };

int mlops__data_pointer_format(mlops__buf *out, const mlops_data_version *v)
{
    if (!out || !v)
        return mlops__error_set(MLOPS_EINVALID, "data_pointer_write: NULL argument");
    char hex[MLOPS_OID_HEXSZ + 1];
    MLOPS__TRY(mlops_oid_tohex(hex, &v->id));
    MLOPS__TRY(mlops__buf_puts(out, POINTER_MAGIC "\n"));
    if (v->dataset) {
        MLOPS__TRY(mlops__data_dataset_name_check(v->dataset));
        if (v->version == 0)
            return mlops__error_set(MLOPS_EINVALID, "pointer file: version 0 of dataset '%s'", v->dataset);
        MLOPS__TRY(mlops__buf_printf(out, "dataset %s\nversion %llu\n", v->dataset, (unsigned long long)v->version));
    } else if (v->version != 0) {
        return mlops__error_set(MLOPS_EINVALID, "pointer file: version %llu without a dataset",
                                (unsigned long long)v->version);
    }
    return mlops__buf_printf(out, "id %s\nsize %llu\nfiles %llu\n", hex, (unsigned long long)v->size,
                             (unsigned long long)v->files);
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct line_ctx {
    const char *what; /* the file, for messages */
    unsigned no;      /* 1-based line number */
} line_ctx;

static int bad_line(const line_ctx *l, const char *why)
{
    return mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s' line %u: %s", l->what, l->no, why);
}

/* Canonical decimal: no sign, no leading zero, fits in 64 bits. */
static int parse_u64(uint64_t *out, const char *s, size_t len, const line_ctx *l)
{
    if (len == 0 || (s[0] == '0' && len > 1))
        return bad_line(l, "not a canonical decimal number");
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return bad_line(l, "not a decimal number");
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return bad_line(l, "number too large");
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_value(mlops_data_version *v, int key, const char *s, size_t len, const line_ctx *l)
{
    switch (key) {
    case K_DATASET: {
        if (len > MLOPS_DATA_NAME_MAX)
            return bad_line(l, "dataset name longer than 128 bytes");
        if (!(v->dataset = mlops__strndup(s, len)))
            return mlops__error_oom();
        int rc = mlops__data_dataset_name_check(v->dataset);
        return rc < 0 ? mlops__error_prefix(rc, "pointer file '%.200s' line %u", l->what, l->no) : 0;
    }
    case K_VERSION:
        MLOPS__TRY(parse_u64(&v->version, s, len, l));
        return v->version ? 0 : bad_line(l, "version 0 (versions start at 1)");
    case K_ID:
        for (size_t i = 0; i < len; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                return bad_line(l, "id is not 64 lowercase hex digits");
        if (len != MLOPS_OID_HEXSZ)
            return bad_line(l, "id is not 64 lowercase hex digits");
        return mlops_oid_fromhexn(&v->id, s, len);
    case K_SIZE: return parse_u64(&v->size, s, len, l);
    default: return parse_u64(&v->files, s, len, l);
    }
}

static int parse_line(mlops_data_version *v, unsigned *seen, const char *s, size_t len, const line_ctx *l)
{
    if (len && s[len - 1] == '\r')
        return bad_line(l, "CR before the line end (pointer files use LF endings; mark them -text for git)");
    const char *sp = memchr(s, ' ', len);
    if (!sp)
        return bad_line(l, len ? "no space between key and value" : "empty line");
    size_t klen = (size_t)(sp - s);
    int key = -1;
    for (int k = 0; k < NKEYS; k++)
        if (strlen(key_names[k]) == klen && memcmp(key_names[k], s, klen) == 0)
            key = k;
    if (key < 0)
        return mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s' line %u: unknown key '%.*s'", l->what, l->no,
                                (int)(klen > 40 ? 40 : klen), s);
    if (*seen & (1u << key))
        return mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s' line %u: duplicate key '%s'", l->what, l->no,
                                key_names[key]);
    *seen |= 1u << key;
    return parse_value(v, key, sp + 1, len - klen - 1, l);
}

static int check_complete(unsigned seen, const char *what)
{
    for (int k = K_ID; k < NKEYS; k++)
        if (!(seen & (1u << k)))
            return mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s': missing key '%s'", what, key_names[k]);
    if (!(seen & (1u << K_DATASET)) != !(seen & (1u << K_VERSION)))
        return mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s': 'dataset' and 'version' go together", what);
    return 0;
}

static int parse_all(mlops_data_version *v, const char *data, size_t len, const char *what)
{
    line_ctx l = { what, 1 };
    if (len > POINTER_MAX)
        return mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s' is larger than %d bytes", what, POINTER_MAX);
    const char *nul = memchr(data, 0, len);
    for (const char *p = data; nul && p < nul; p++)
        l.no += *p == '\n';
    if (nul)
        return bad_line(&l, "NUL byte (not a pointer file)");
    if (len == 0 || data[len - 1] != '\n') {
        l.no = 1;
        for (size_t i = 0; i < len; i++)
            l.no += data[i] == '\n';
        return bad_line(&l, len ? "no newline at the end of the file" : "empty file");
    }
    unsigned seen = 0;
    for (size_t off = 0; off < len; l.no++) {
        const char *s = data + off, *nl = memchr(s, '\n', len - off);
        size_t n = (size_t)(nl - s);
        if (l.no == 1) {
            if (n != strlen(POINTER_MAGIC) || memcmp(s, POINTER_MAGIC, n) != 0)
                return bad_line(&l, "not '" POINTER_MAGIC "': not a pointer file, or a newer format");
        } else {
            MLOPS__TRY(parse_line(v, &seen, s, n, &l));
        }
        off += n + 1;
    }
    return check_complete(seen, what);
}

int mlops__data_pointer_parse(mlops_data_version **out, const char *data, size_t len, const char *what)
{
    if (!out || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "data_pointer_parse: NULL argument");
    mlops_data_version *v = mlops__calloc(1, sizeof *v);
    if (!v)
        return mlops__error_oom();
    int rc = parse_all(v, data, len, what ? what : "");
    if (rc == 0 && (!(v->message = mlops__strdup("")) || !(v->user = mlops__strdup(""))))
        rc = mlops__error_oom();
    if (rc < 0) {
        mlops_data_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* ---- files -------------------------------------------------------------- */

/* Replaces path with data: temp file in the same directory, fsync,
 * rename, directory fsync. A reader sees the old file or the new one. */
static int write_atomic(const char *path, const char *data, size_t len)
{
    const char *slash = strrchr(path, '/');
    char rnd[17];
    int rc = mlops__fs_random_hex(rnd, 8);
    if (rc < 0)
        return mlops__error_errno(-rc, "pointer file '%.200s': no random name", path);
    mlops__buf tmp = MLOPS__BUF_INIT, dir = MLOPS__BUF_INIT;
    if (!slash)
        rc = mlops__buf_puts(&dir, ".");
    else if (slash == path)
        rc = mlops__buf_puts(&dir, "/");
    else
        rc = mlops__buf_put(&dir, path, (size_t)(slash - path));
    if (rc == 0)
        rc = mlops__buf_printf(&tmp, "%s/.%s.tmp-%s", dir.ptr, slash ? slash + 1 : path, rnd);
    int fd = rc == 0 ? open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666) : -1;
    if (rc == 0 && fd < 0)
        rc = mlops__error_errno(errno, "pointer file '%.200s': cannot create a temp file", path);
    int err = fd >= 0 ? mlops__fs_write_all(fd, data, len) : 0;
    if (err == 0 && fd >= 0)
        err = mlops__fs_fsync(fd);
    if (fd >= 0 && close(fd) != 0 && err == 0)
        err = -errno;
    if (err == 0 && fd >= 0)
        err = mlops__fs_rename(tmp.ptr, path);
    if (err < 0) {
        rc = mlops__error_errno(-err, "pointer file '%.200s'", path);
        unlink(tmp.ptr);
    } else if (rc == 0 && (err = mlops__fs_fsync_dir(dir.ptr)) < 0) {
        rc = mlops__error_errno(-err, "pointer file '%.200s': directory fsync", path);
    }
    mlops__buf_dispose(&tmp);
    mlops__buf_dispose(&dir);
    return rc;
}

int mlops_data_pointer_write(const mlops_data_version *v, const char *path)
{
    if (!v || !path || !*path)
        return mlops__error_set(MLOPS_EINVALID, "data_pointer_write: NULL argument");
    mlops__buf text = MLOPS__BUF_INIT;
    int rc = mlops__data_pointer_format(&text, v);
    if (rc == 0)
        rc = write_atomic(path, text.ptr, text.len);
    mlops__buf_dispose(&text);
    return rc;
}

/* Reads at most POINTER_MAX + 1 bytes: enough to tell that a file is too big. */
static int read_small(char **out, size_t *out_len, const char *path)
{
    /* O_NONBLOCK: opening a fifo must not wait for a writer (it is then
     * refused as not a regular file) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return mlops__error_errno(errno, "pointer file '%.200s'", path);
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0)
        rc = mlops__error_errno(errno, "pointer file '%.200s'", path);
    else if (!S_ISREG(st.st_mode))
        rc = mlops__error_set(MLOPS_EINVALID, "pointer file '%.200s' is not a regular file", path);
    else if (!(buf = mlops__malloc(POINTER_MAX + 1)))
        rc = mlops__error_oom();
    int err = rc == 0 ? mlops__fs_read_full(fd, buf, POINTER_MAX + 1, &n) : 0;
    if (err < 0)
        rc = mlops__error_errno(-err, "pointer file '%.200s'", path);
    close(fd);
    if (rc < 0) {
        mlops__free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* The pointer's totals must be those of what it resolved to. */
static int same_totals(const mlops_data_version *want, const mlops_data_version *got, const char *path)
{
    if (want->size == got->size && want->files == got->files)
        return 0;
    return mlops__error_set(MLOPS_ECONFLICT,
                            "pointer file '%.200s' records %llu bytes in %llu files, the store's snapshot has "
                            "%llu bytes in %llu files",
                            path, (unsigned long long)want->size, (unsigned long long)want->files,
                            (unsigned long long)got->size, (unsigned long long)got->files);
}

static int resolve_pointer(mlops_data_version **out, mlops_store *store, const mlops_data_version *p,
                           const char *path)
{
    mlops_data_version *v = NULL;
    int rc = MLOPS_ENOTFOUND;
    if (p->dataset) {
        rc = mlops__data_find(&v, store, p->dataset, p->version);
        if (rc == 0 && mlops_oid_cmp(&v->id, &p->id) != 0)
            rc = mlops__error_set(MLOPS_ECONFLICT,
                                  "pointer file '%.200s' pins snapshot %s, but %s@%llu in the store is %s", path,
                                  mlops__hex(&p->id).s, p->dataset, (unsigned long long)p->version,
                                  mlops__hex(&v->id).s);
        if (rc == 0)
            rc = mlops__data_tags_fill(store, v->dataset, &v, 1);
    }
    if (rc == MLOPS_ENOTFOUND) { /* a dataset (or version) this store does not have */
        rc = mlops__data_bare(&v, store, &p->id);
        if (rc == MLOPS_ENOTFOUND && p->dataset)
            rc = mlops__error_set(rc, "pointer file '%.200s': the store has neither %s@%llu nor snapshot %s", path,
                                  p->dataset, (unsigned long long)p->version, mlops__hex(&p->id).s);
        else if (rc == MLOPS_ENOTFOUND)
            rc = mlops__error_set(rc, "pointer file '%.200s': the store has no snapshot %s", path,
                                  mlops__hex(&p->id).s);
    }
    if (rc == 0)
        rc = same_totals(p, v, path);
    if (rc < 0) {
        mlops_data_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int mlops_data_pointer_read(mlops_data_version **out, mlops_store *store, const char *path)
{
    if (!out || !store || !path)
        return mlops__error_set(MLOPS_EINVALID, "data_pointer_read: NULL argument");
    char *text = NULL;
    size_t len = 0;
    MLOPS__TRY(read_small(&text, &len, path));
    mlops_data_version *p = NULL;
    int rc = mlops__data_pointer_parse(&p, text, len, path);
    mlops__free(text);
    if (rc == 0)
        rc = resolve_pointer(out, store, p, path);
    mlops_data_version_free(p);
    return rc;
}
