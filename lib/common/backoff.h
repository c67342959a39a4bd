/*
 * Internal: the randomized wait between attempts of a compare-and-swap
 * loop (a dataset commit, a registry change). Losers of a race sleep a
 * random time below a bound that doubles per lost race, up to about 6 ms:
 * long enough for the winner's CAS to land, short for a user, and random
 * so that a crowd of processes does not retry in lockstep.
 */
#ifndef MLOPS_LIB_COMMON_BACKOFF_H
#define MLOPS_LIB_COMMON_BACKOFF_H

#include <stdint.h>

/* A seed that differs between processes, threads (where: any address of
 * the caller's frame) and calls. Never 0. */
uint64_t mlops__backoff_seed(const void *where);
/* Sleeps after lost race number attempt (0 first), advancing *seed. */
void mlops__backoff_sleep(uint64_t *seed, unsigned attempt);

#endif
