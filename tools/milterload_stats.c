/*
 * milterload_stats.c -- what a run measured: messages per second, latency
 * percentiles, the count of every reply kind, and the milter's peak RSS
 * and CPU time read from /proc/PID (status: VmHWM, VmRSS, Threads; stat:
 * utime + stime).  Printed as a table for people and as flat JSON (one key
 * a line) for tools/bench.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/milterload.h"

static const char *const reply_names[] = {
    "continue",   "accept",      "skip",    "addheader", "insheader", "chgheader", "setsymlist",
    "quarantine", "progress",    "reject",  "tempfail",  "discard",   "replycode", "addrcpt",
    "delrcpt",    "addrcpt_par", "chgfrom", "replbody",  "conn_fail", "optneg",    "other",
};

_Static_assert(sizeof reply_names / sizeof reply_names[0] == sizeof ML_REPLY_CODES,
               "one name per reply code, plus other");

bool
ml_stats_init(struct ml_stats *stats, unsigned long planned)
{
    memset(stats, 0, sizeof *stats);
    stats->planned = planned;
    stats->latency_us = calloc(planned > 0 ? planned : 1, sizeof *stats->latency_us);
    stats->eom_us = calloc(planned > 0 ? planned : 1, sizeof *stats->eom_us);
    if (stats->latency_us == NULL || stats->eom_us == NULL) {
        ml_stats_free(stats);
        return false;
    }
    return true;
}

void
ml_stats_free(struct ml_stats *stats)
{
    free(stats->latency_us);
    free(stats->eom_us);
    stats->latency_us = stats->eom_us = NULL;
}

void
ml_stats_reply(struct ml_stats *stats, char code)
{
    const char *at = code != '\0' ? strchr(ML_REPLY_CODES, code) : NULL;

    stats->replies[at != NULL ? (size_t)(at - ML_REPLY_CODES) : sizeof ML_REPLY_CODES - 1]++;
}

void
ml_stats_sample(struct ml_stats *stats, uint32_t latency_us, uint32_t eom_us)
{
    if (stats->samples >= stats->planned)
        return;
    stats->latency_us[stats->samples] = latency_us;
    stats->eom_us[stats->samples] = eom_us;
    stats->samples++;
}

static long
status_field(const char *text, const char *name)
{
    const char *at = strstr(text, name);

    return at != NULL ? strtol(at + strlen(name), NULL, 10) : -1;
}

bool
ml_proc_read(pid_t pid, struct ml_proc_sample *sample)
{
    char path[64], text[4096], *close_paren;
    unsigned long long utime = 0, stime = 0;
    FILE *in;
    size_t got;
    long ticks = sysconf(_SC_CLK_TCK);

    memset(sample, 0, sizeof *sample);
    if (pid <= 0 || ticks <= 0)
        return false;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if ((in = fopen(path, "r")) == NULL)
        return false;
    got = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[got] = '\0';
    sample->vm_hwm_kib = status_field(text, "\nVmHWM:");
    sample->vm_rss_kib = status_field(text, "\nVmRSS:");
    sample->threads = status_field(text, "\nThreads:");
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if ((in = fopen(path, "r")) == NULL)
        return false;
    got = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[got] = '\0';
    /* Fields after the command name (which may hold spaces): state is 3, utime 14. */
    close_paren = strrchr(text, ')');
    if (close_paren == NULL ||
        sscanf(close_paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
               &stime) != 2)
        return false;
    sample->cpu_seconds = (double)(utime + stime) / (double)ticks;
    sample->user_seconds = (double)utime / (double)ticks;
    sample->ok = sample->vm_hwm_kib >= 0;
    return sample->ok;
}

static int
compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in milliseconds of a sorted array; 0 when empty. */
static double
percentile_ms(const uint32_t *sorted, unsigned long count, unsigned pct)
{
    unsigned long rank;

    if (count == 0)
        return 0.0;
    rank = (unsigned long)(((unsigned long long)count * pct + 99) / 100);
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1] / 1000.0;
}

struct summary {
    double rate;
    double p50, p90, p99, max;
    double eom_p50, eom_p99;
    double milter_cpu_us;  /* per message; < 0 unknown */
    double milter_user_us; /* the user-space part of it */
    double driver_cpu_us;
};

static void
summarize(struct ml_stats *stats, struct summary *s)
{
    qsort(stats->latency_us, stats->samples, sizeof *stats->latency_us, compare_u32);
    qsort(stats->eom_us, stats->samples, sizeof *stats->eom_us, compare_u32);
    s->rate = stats->seconds > 0 ? (double)stats->done / stats->seconds : 0.0;
    s->p50 = percentile_ms(stats->latency_us, stats->samples, 50);
    s->p90 = percentile_ms(stats->latency_us, stats->samples, 90);
    s->p99 = percentile_ms(stats->latency_us, stats->samples, 99);
    s->max = percentile_ms(stats->latency_us, stats->samples, 100);
    s->eom_p50 = percentile_ms(stats->eom_us, stats->samples, 50);
    s->eom_p99 = percentile_ms(stats->eom_us, stats->samples, 99);
    s->milter_cpu_us = s->milter_user_us = -1;
    if (stats->milter_before.ok && stats->milter_after.ok && stats->done > 0) {
        s->milter_cpu_us = (stats->milter_after.cpu_seconds - stats->milter_before.cpu_seconds) *
                           1e6 / (double)stats->done;
        s->milter_user_us = (stats->milter_after.user_seconds - stats->milter_before.user_seconds) *
                            1e6 / (double)stats->done;
    }
    s->driver_cpu_us =
        stats->done > 0 ? stats->driver_cpu_seconds * 1e6 / (double)stats->done : 0.0;
}

void
ml_stats_print_table(struct ml_stats *stats, const struct ml_report_info *info, FILE *out)
{
    struct summary s;
    const char *separator = "";

    summarize(stats, &s);
    fprintf(out, "milterload %s: %s, C=%u, %u message(s) per connection, expect %s\n", info->label,
            info->socket, info->concurrency, info->per_conn, info->expect);
    fprintf(out, "  messages   %lu planned, %lu correct, %lu errors, %lu connections\n",
            stats->planned, stats->ok, stats->errors, stats->connections);
    fprintf(out, "  rate       %.1f msgs/s (%.3f s)\n", s.rate, stats->seconds);
    fprintf(out, "  latency ms p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (connect to final reply)\n",
            s.p50, s.p90, s.p99, s.max);
    fprintf(out, "  eom ms     p50 %.3f  p99 %.3f  (end of body to final reply)\n", s.eom_p50,
            s.eom_p99);
    fprintf(out, "  replies    ");
    for (size_t i = 0; i < sizeof ML_REPLY_CODES; i++) {
        if (stats->replies[i] == 0)
            continue;
        fprintf(out, "%s%s=%lu", separator, reply_names[i], stats->replies[i]);
        separator = " ";
    }
    fprintf(out, "\n");
    if (stats->milter_after.ok)
        fprintf(out,
                "  milter     pid %ld: VmHWM %.1f MiB, VmRSS %.1f MiB, %ld threads, "
                "cpu %.1f us/msg (user %.1f)\n",
                (long)info->pid, stats->milter_after.vm_hwm_kib / 1024.0,
                stats->milter_after.vm_rss_kib / 1024.0, stats->milter_after.threads,
                s.milter_cpu_us, s.milter_user_us);
    fprintf(out, "  driver     cpu %.1f us/msg\n", s.driver_cpu_us);
}

bool
ml_stats_write_json(struct ml_stats *stats, const struct ml_report_info *info, FILE *out)
{
    struct summary s;

    summarize(stats, &s);
    fprintf(out, "{\n");
    fprintf(out, "  \"label\": \"%s\",\n", info->label);
    fprintf(out, "  \"concurrency\": %u,\n", info->concurrency);
    fprintf(out, "  \"per_connection\": %u,\n", info->per_conn);
    fprintf(out, "  \"messages\": %lu,\n", stats->planned);
    fprintf(out, "  \"ok\": %lu,\n", stats->ok);
    fprintf(out, "  \"errors\": %lu,\n", stats->errors);
    fprintf(out, "  \"connections\": %lu,\n", stats->connections);
    fprintf(out, "  \"connect_retries\": %lu,\n", stats->connect_retries);
    fprintf(out, "  \"seconds\": %.6f,\n", stats->seconds);
    fprintf(out, "  \"msgs_per_s\": %.1f,\n", s.rate);
    fprintf(out, "  \"p50_ms\": %.3f,\n", s.p50);
    fprintf(out, "  \"p90_ms\": %.3f,\n", s.p90);
    fprintf(out, "  \"p99_ms\": %.3f,\n", s.p99);
    fprintf(out, "  \"max_ms\": %.3f,\n", s.max);
    fprintf(out, "  \"eom_p50_ms\": %.3f,\n", s.eom_p50);
    fprintf(out, "  \"eom_p99_ms\": %.3f,\n", s.eom_p99);
    for (size_t i = 0; i < sizeof ML_REPLY_CODES; i++)
        fprintf(out, "  \"reply_%s\": %lu,\n", reply_names[i], stats->replies[i]);
    fprintf(out, "  \"milter_pid\": %ld,\n", (long)info->pid);
    fprintf(out, "  \"milter_vmhwm_kib\": %ld,\n",
            stats->milter_after.ok ? stats->milter_after.vm_hwm_kib : -1L);
    fprintf(out, "  \"milter_vmrss_kib\": %ld,\n",
            stats->milter_after.ok ? stats->milter_after.vm_rss_kib : -1L);
    fprintf(out, "  \"milter_threads\": %ld,\n",
            stats->milter_after.ok ? stats->milter_after.threads : -1L);
    fprintf(out, "  \"milter_cpu_us_per_msg\": %.1f,\n", s.milter_cpu_us);
    fprintf(out, "  \"milter_user_us_per_msg\": %.1f,\n", s.milter_user_us);
    fprintf(out, "  \"driver_cpu_us_per_msg\": %.1f\n", s.driver_cpu_us);
    fprintf(out, "}\n");
    return !ferror(out);
}
