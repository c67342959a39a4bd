/* SHA-256 through OpenSSL's EVP interface (uses SHA-NI/AVX2 where present).
 * The EVP context itself is allocated by OpenSSL: its allocator is
 * process-wide and cannot be owned by a library. */
#include <openssl/evp.h>

#include "error.h"
#include "sha256.h"

int mlops__sha256_init(mlops__sha256 *h)
{
    if (!h->ctx) {
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx)
            return mlops__error_oom();
    }
    if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
        return mlops__error_set(MLOPS_ERROR, "SHA-256 initialisation failed");
    return 0;
}

int mlops__sha256_update(mlops__sha256 *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        return mlops__error_set(MLOPS_ERROR, "SHA-256 update failed");
    return 0;
}

int mlops__sha256_final(mlops__sha256 *h, unsigned char out[MLOPS__SHA256_LEN])
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != MLOPS__SHA256_LEN)
        return mlops__error_set(MLOPS_ERROR, "SHA-256 finalisation failed");
    return 0;
}

void mlops__sha256_dispose(mlops__sha256 *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int mlops__sha256_digest(unsigned char out[MLOPS__SHA256_LEN], const void *data, size_t len)
{
    mlops__sha256 h = { NULL };
    int rc = mlops__sha256_init(&h);
    if (!rc)
        rc = mlops__sha256_update(&h, data, len);
    if (!rc)
        rc = mlops__sha256_final(&h, out);
    mlops__sha256_dispose(&h);
    return rc;
}
