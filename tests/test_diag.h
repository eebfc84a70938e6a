/* test_diag.h - captures the library's diagnostics for tests: pass diag_fn as
   otel_desc.diag.func, then count warnings/errors by substring. Include after otel.h. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define DIAG_MAX 512
static pthread_mutex_t diag_mu = PTHREAD_MUTEX_INITIALIZER;
static char diag_msgs[DIAG_MAX][400];
static otel_log_level diag_levels[DIAG_MAX];
static int diag_n;

static inline void diag_fn(otel_log_level level, const char *msg, void *user) {
    (void)user;
    pthread_mutex_lock(&diag_mu);
    if (diag_n < DIAG_MAX) {
        snprintf(diag_msgs[diag_n], sizeof diag_msgs[0], "%s", msg);
        diag_levels[diag_n] = level;
    }
    diag_n++;
    pthread_mutex_unlock(&diag_mu);
}

static inline void diag_reset(void) {
    pthread_mutex_lock(&diag_mu);
    diag_n = 0;
    pthread_mutex_unlock(&diag_mu);
}

/* Warnings and errors whose text contains `sub` (NULL: all of them). */
static inline int diag_count(const char *sub) {
    int n = 0;
    pthread_mutex_lock(&diag_mu);
    for (int i = 0; i < diag_n && i < DIAG_MAX; i++)
        if (diag_levels[i] <= OTEL_LOG_WARN && (!sub || strstr(diag_msgs[i], sub))) n++;
    pthread_mutex_unlock(&diag_mu);
    return n;
}

static inline void diag_dump(void) {
    pthread_mutex_lock(&diag_mu);
    for (int i = 0; i < diag_n && i < DIAG_MAX; i++) fprintf(stderr, "  diag[%d] %d: %s\n", i, diag_levels[i], diag_msgs[i]);
    pthread_mutex_unlock(&diag_mu);
}
