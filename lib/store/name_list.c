/* Sorted name lists: backends list in any order, the API promises bytewise. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "name_list.h"

int mlops__name_list_add(const char *name, void *payload)
{
    mlops__name_list *l = payload;
    if (l->len == l->cap) {
        char **p = mlops__grow_array(l->names, &l->cap, sizeof *p, 16);
        if (!p)
            return mlops__error_oom();
        l->names = p;
    }
    char *copy = mlops__strdup(name);
    if (!copy)
        return mlops__error_oom();
    l->names[l->len++] = copy;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void mlops__name_list_sort(mlops__name_list *l)
{
    if (l->len < 2)
        return;
    qsort(l->names, l->len, sizeof *l->names, cmp_names);
    size_t out = 1;
    for (size_t i = 1; i < l->len; i++) {
        if (strcmp(l->names[i], l->names[out - 1]) == 0)
            mlops__free(l->names[i]);
        else
            l->names[out++] = l->names[i];
    }
    l->len = out;
}

void mlops__name_list_dispose(mlops__name_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        mlops__free(l->names[i]);
    mlops__free(l->names);
    l->names = NULL;
    l->len = l->cap = 0;
}
