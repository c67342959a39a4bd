/* The default author of a change (user.h). */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "user.h"

static int usable(const char *u, size_t max)
{
    return u && *u && strlen(u) <= max;
}

char *mlops__default_user(size_t max)
{
    const char *env = getenv("USER");
    if (usable(env, max))
        return mlops__strdup(env);
    char buf[1024];
    struct passwd pw, *found = NULL;
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && usable(found->pw_name, max))
        return mlops__strdup(found->pw_name);
    return mlops__strdup("");
}
