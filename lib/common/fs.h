/* Internal: POSIX file helpers. Writes, fsyncs, renames and links go through
 * here so that tests can inject I/O faults (see fault.h). */
#ifndef MLOPS_LIB_COMMON_FS_H
#define MLOPS_LIB_COMMON_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes all len bytes (retrying short writes and EINTR). Returns 0 or -errno. */
int mlops__fs_write_all(int fd, const void *data, size_t len);
/* Reads up to len bytes, retrying short reads; *out_n < len only at EOF. Returns 0 or -errno. */
int mlops__fs_read_full(int fd, void *buf, size_t len, size_t *out_n);
/* fsync / fdatasync with fault injection. Returns 0 or -errno. */
int mlops__fs_fsync(int fd);
/* Opens the file at path, fsyncs and closes it. Returns 0 or -errno. */
int mlops__fs_fsync_path(const char *path);
/* fsyncs a directory. Returns 0 or -errno. */
int mlops__fs_fsync_dir(const char *path);
/* rename / link / unlink with fault injection. Return 0 or -errno. */
int mlops__fs_rename(const char *from, const char *to);
int mlops__fs_link(const char *from, const char *to);
/* Gives the anonymous (O_TMPFILE) file open as fd the name to, never
 * replacing an existing one (EEXIST). Needs /proc. 0 or -errno. */
int mlops__fs_link_fd(int fd, const char *to);
/* Creates path and missing parents (mode 0777 & ~umask). 0 or -errno. */
int mlops__fs_mkdir_p(const char *path);
/* Fills out with 2*nbytes random lowercase hex digits and a NUL. */
int mlops__fs_random_hex(char *out, size_t nbytes);
/* Wall clock in milliseconds since the epoch. */
int64_t mlops__time_ms(void);

#endif
