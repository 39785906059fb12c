/*
 * db_pool.c -- a fixed pool of telos_app connections for the HTTP threads.
 *
 * The pool is as large as the worker thread pool, so a request waits for a
 * connection only when more requests run than there are threads; a mutex and
 * a condition variable guard the free list.
 */
#include "db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t  freed;
    PGconn **free_list;  /* stack of idle connections */
    int nfree;
    int size;
};

db_pool *db_pool_new(const telos_config *cfg, int n, char *err, size_t errlen)
{
    db_pool *p = calloc(1, sizeof *p);
    if (p == NULL || (p->free_list = calloc((size_t)n, sizeof(PGconn *))) == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    p->size = n;
    for (int i = 0; i < n; i++) {
        PGconn *c = db_connect(cfg, DB_APP, NULL, err, errlen);
        if (c == NULL) {
            db_pool_free(p);
            return NULL;
        }
        p->free_list[p->nfree++] = c;
    }
    return p;
}

PGconn *db_pool_get(db_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->nfree == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    PGconn *c = p->free_list[--p->nfree];
    pthread_mutex_unlock(&p->lock);
    /* A server restart or a dropped socket leaves the connection bad: reset
     * it here rather than failing the request that happens to draw it. */
    if (PQstatus(c) != CONNECTION_OK)
        PQreset(c);
    return c;
}

void db_pool_put(db_pool *p, PGconn *c)
{
    if (PQtransactionStatus(c) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c, "ROLLBACK");
        PQclear(r);
    }
    pthread_mutex_lock(&p->lock);
    p->free_list[p->nfree++] = c;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void db_pool_free(db_pool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->nfree; i++)
        PQfinish(p->free_list[i]);
    free(p->free_list);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p);
}
