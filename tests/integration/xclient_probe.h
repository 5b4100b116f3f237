/*
 * xclient_probe.h -- what the two files of the XMPP client's test
 * driver (xclient_probe.c: options, commands, one-off calls;
 * xclient_probe_load.c: many calls from many threads) share.
 */
#ifndef XSMTP_XMPP_CLIENT_PROBE_H
#define XSMTP_XMPP_CLIENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "xmpp/client/client.h"

/* The driver's one context: client settings, the client, default attributes. */
struct probe {
    struct xclient_options options;
    struct xclient *client;
    char defaults[9][XCLIENT_VALUE_MAX + 1]; /* verify attributes, "" = unset */
    bool has_default[9];
};
extern struct probe probe;

/* A query: the defaults, overridden by NAME=VALUE words ("NAME=" unsets). */
struct query_values {
    char values[9][XCLIENT_VALUE_MAX + 1];
    bool set[9];
};

double now_ms(void);
struct timespec deadline_in(long ms);
/* The defaults overridden by NAME=VALUE words; false for an unknown name. */
bool build_query(struct query_values *qv, char **words, int count, struct xsmtp_query *query);
/* "VERDICT[ REASON]" */
void describe(const struct xclient_answer *answer, char *out, size_t outsz);

/* xclient_probe_load.c; w[0] is the command word, n the word count. */
void cmd_load(char **w, int n);
void cmd_rtt(char **w, int n);
void cmd_killmid(char **w, int n);
void cmd_stopmid(char **w, int n);
void cmd_until(char **w, int n);

#endif
