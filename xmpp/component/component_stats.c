/*
 * component_stats.c -- the counters line.
 *
 * One log line, "stats: reason=R uptime=S key=value ...", so an operator
 * can grep or graph it: queries, each verdict and error by name, disco
 * answers, notices forwarded and dropped by cause, connects, reconnects and
 * disconnects.  Written on SIGUSR1 (reason=sigusr1), every stats_interval
 * seconds (reason=timer, component_stats_tick from the main loop; 0: never)
 * and at stop (reason=stop).
 */
#include "config.h"

#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "hash/util/log.h"
#include "xmpp/component/component.h"

/* Appends " key=value" to line; silently stops when the line is full. */
static void
append(char *line, size_t size, size_t *used, const char *key, unsigned long value)
{
    int n;

    if (*used >= size)
        return;
    n = snprintf(line + *used, size - *used, " %s=%lu", key, value);
    if (n > 0)
        *used += (size_t)n;
}

void
component_stats_log(const struct component *comp, const char *reason)
{
    const struct component_counters *c = &comp->counters;
    char line[1024], key[64];
    size_t used = 0;
    unsigned i;
    int n;

    line[0] = '\0';
    n = snprintf(line, sizeof line, " reason=%s", reason != NULL ? reason : "-");
    if (n > 0)
        used = (size_t)n < sizeof line ? (size_t)n : sizeof line;
    append(line, sizeof line, &used, "uptime",
           comp->started_ns != 0
               ? (unsigned long)((component_now_ns() - comp->started_ns) / 1000000000ULL)
               : 0UL);
    append(line, sizeof line, &used, "queries", c->queries);
    for (i = 0; i < COMPONENT_ANSWER_KINDS; i++)
        append(line, sizeof line, &used, component_answer_key(i), c->answers[i]);
    append(line, sizeof line, &used, "disco", c->disco);
    append(line, sizeof line, &used, "other_iq", c->other_iq);
    append(line, sizeof line, &used, "ignored", c->ignored);
    append(line, sizeof line, &used, "notices.forwarded", c->notices_forwarded);
    for (i = 0; i < NOTICE_DROP_COUNT; i++) {
        snprintf(key, sizeof key, "notices.dropped.%s",
                 component_notice_drop_name((enum component_notice_drop)i));
        append(line, sizeof line, &used, key, c->notices_dropped[i]);
    }
    append(line, sizeof line, &used, "connects", c->connects);
    append(line, sizeof line, &used, "reconnects", c->connects > 0 ? c->connects - 1 : 0);
    append(line, sizeof line, &used, "disconnects", c->disconnects);
    log_msg(LOG_NOTICE, "stats:%s", line);
}

void
component_stats_tick(struct component *comp)
{
    uint64_t interval_ns = (uint64_t)comp->config.stats_interval * 1000000000ULL;
    uint64_t now;

    if (interval_ns == 0)
        return;
    now = component_now_ns();
    if (comp->next_stats_ns == 0) {
        comp->next_stats_ns = now + interval_ns;
        return;
    }
    if (now < comp->next_stats_ns)
        return;
    component_stats_log(comp, "timer");
    comp->next_stats_ns += interval_ns;
    /* After a long stall (a suspended host): one line, not one per tick. */
    if (comp->next_stats_ns <= now)
        comp->next_stats_ns = now + interval_ns;
}
