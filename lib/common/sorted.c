/* Binary search in sorted arrays (sorted.h). */
#include "sorted.h"

size_t mlops__sorted_pos(const void *v, size_t n, size_t sz, int (*cmp)(const void *element, const void *key),
                         const void *key, int *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp((const char *)v + mid * sz, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}
