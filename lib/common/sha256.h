/* Internal: streaming SHA-256 over OpenSSL's EVP interface. */
#ifndef MLOPS_LIB_COMMON_SHA256_H
#define MLOPS_LIB_COMMON_SHA256_H

#include <stddef.h>

#define MLOPS__SHA256_LEN 32

typedef struct mlops__sha256 {
    void *ctx; /* EVP_MD_CTX */
} mlops__sha256;

int mlops__sha256_init(mlops__sha256 *h);
int mlops__sha256_update(mlops__sha256 *h, const void *data, size_t len);
/* Writes the digest; the context may be re-initialised afterwards. */
int mlops__sha256_final(mlops__sha256 *h, unsigned char out[MLOPS__SHA256_LEN]);
void mlops__sha256_dispose(mlops__sha256 *h);
/* One-shot digest. */
int mlops__sha256_digest(unsigned char out[MLOPS__SHA256_LEN], const void *data, size_t len);

#endif
