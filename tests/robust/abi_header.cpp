// Built as C++ by test_abi.sh and linked against the shared library: checks
// the extern "C" guards (a missing guard gives mangled, undefined names).
#include <mlops.h>
#include <mlops/sys/backend.h>

#include <cstdio>
#include <cstring>

int main()
{
    mlops_store_options opts = MLOPS_STORE_OPTIONS_INIT;
    mlops_store *s = 0;
    mlops_oid id;
    char hex[MLOPS_OID_HEXSZ + 1];
    const char *v = mlops_version();
    if (!v || std::strcmp(v, MLOPS_VERSION_STRING) != 0) {
        std::printf("mlops_version() = %s, header says %s\n", v ? v : "(null)", MLOPS_VERSION_STRING);
        return 1;
    }
    if (mlops_version_number() != MLOPS_VERSION_NUMBER)
        return 2;
    if (mlops_store_open_memory(&s, &opts) != MLOPS_OK)
        return 3;
    if (mlops_object_put(&id, s, "abc", 3) != MLOPS_OK)
        return 4;
    mlops_oid_tohex(hex, &id);
    mlops_store_free(s);
    // sha256("abc")
    if (std::strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") != 0) {
        std::printf("id of 'abc' = %s\n", hex);
        return 5;
    }
    mlops_backend b;
    if (mlops_backend_init(&b, MLOPS_BACKEND_VERSION) != MLOPS_OK)
        return 6;
    std::printf("ok %s %s\n", v, mlops_strerror(MLOPS_ECONFLICT));
    return 0;
}
