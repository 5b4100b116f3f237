/*
 * config_redis.c -- section redis { }: where the verifier's shared verdict
 * cache lives (milter/cache/cache.h).
 *
 *   host           Redis server address (an IP address is best: a name
 *                  lookup is not bounded by timeout_ms)             ""
 *   port           its TCP port                                     6379
 *   socket         or a unix socket path (instead of host)          ""
 *   password_file  first line is the AUTH password; refused when
 *                  group or other may read or write it              "" (no AUTH)
 *   db             SELECT this database                             0
 *   prefix         prefix of every key                              "xsmtp:1:"
 *   timeout_ms     bound of one Redis call                          100
 *   pool_size      connections per milter process                   8
 *   sentinels      "host:port" of Redis Sentinels (instead of host
 *                  and socket); the master is found through them    {}
 *   master_name    the master's name at the sentinels               ""
 *
 * With none of host, socket and sentinels the cache is off: every message
 * is verified with a query (fine for one small gateway).  Like xmpp { },
 * the values are used once at start; a reload changes them only at the
 * next restart.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hash/util/private_file.h"
#include "milter/cache/cache.h"
#include "milter/config/config_internal.h"

#define REDIS_TIMEOUT_MAX_MS 60000
#define REDIS_POOL_MAX 64
#define REDIS_DB_MAX 1000000
#define REDIS_HOST_MAX 255
#define REDIS_SOCKET_MAX 107 /* sun_path holds 108 bytes with the NUL */
#define REDIS_PASSWORD_MAX 512

static const cfg_opt_t redis_options[] = {
    CFG_STR("host", "", CFGF_NONE),
    CFG_INT("port", CACHE_DEFAULT_PORT, CFGF_NONE),
    CFG_STR("socket", "", CFGF_NONE),
    CFG_STR("password_file", "", CFGF_NONE),
    CFG_INT("db", 0, CFGF_NONE),
    CFG_STR("prefix", CACHE_DEFAULT_PREFIX, CFGF_NONE),
    CFG_INT("timeout_ms", CACHE_DEFAULT_TIMEOUT_MS, CFGF_NONE),
    CFG_INT("pool_size", 8, CFGF_NONE),
    CFG_STR_LIST("sentinels", 0, CFGF_NONE),
    CFG_STR("master_name", "", CFGF_NONE),
    CFG_END()};

static const char *
redis_optional(cfg_t *cfg, const char *name)
{
    const char *value = cfg_getstr(cfg, name);
    return value != NULL && *value != '\0' ? value : NULL;
}

/* Printable ASCII without space, 1..max octets. */
static bool
redis_printable(const char *value, size_t max)
{
    size_t length = value != NULL ? strlen(value) : 0;

    if (length == 0 || length > max)
        return false;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)value[i] <= 0x20 || (unsigned char)value[i] >= 0x7f)
            return false;
    return true;
}

/* "host:port" or "[v6]:port"; the host part is not looked up here. */
static bool
redis_endpoint_ok(const char *value)
{
    const char *colon, *host_end, *p;
    unsigned long port = 0;

    if (!redis_printable(value, REDIS_HOST_MAX + 8))
        return false;
    if (value[0] == '[') {
        char host[INET6_ADDRSTRLEN];
        unsigned char address[sizeof(struct in6_addr)];

        host_end = strchr(value, ']');
        if (host_end == NULL || host_end[1] != ':' || (size_t)(host_end - value - 1) >= sizeof host)
            return false;
        memcpy(host, value + 1, (size_t)(host_end - value - 1));
        host[host_end - value - 1] = '\0';
        if (inet_pton(AF_INET6, host, address) != 1)
            return false;
        colon = host_end + 1;
    } else {
        colon = strrchr(value, ':');
        if (colon == NULL || colon == value || memchr(value, ':', (size_t)(colon - value)))
            return false;
    }
    if (colon[1] == '\0')
        return false;
    for (p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return false;
    }
    return port >= 1;
}

static void
redis_check_sentinels(struct config_check *check, cfg_t *cfg, struct redis_config *redis)
{
    unsigned count = cfg_size(cfg, "sentinels");
    const char *master = redis_optional(cfg, "master_name");

    if (count == 0) {
        if (master != NULL)
            config_problem(check, "redis.master_name", "given without redis.sentinels");
        return;
    }
    if (count > CACHE_SENTINELS_MAX) {
        config_problem(check, "redis.sentinels", "more than %d sentinels", CACHE_SENTINELS_MAX);
        return;
    }
    redis->sentinels = calloc(count, sizeof *redis->sentinels);
    if (redis->sentinels == NULL) {
        config_problem(check, "redis.sentinels", "out of memory");
        return;
    }
    for (unsigned i = 0; i < count; i++) {
        const char *value = cfg_getnstr(cfg, "sentinels", i);

        if (!redis_endpoint_ok(value)) {
            config_problem(check, "redis.sentinels",
                           "bad sentinel '%s' (expected host:port or [v6]:port)",
                           value != NULL ? value : "");
            continue;
        }
        redis->sentinels[redis->sentinel_count] = config_strdup(check, "redis.sentinels", value);
        if (redis->sentinels[redis->sentinel_count] != NULL)
            redis->sentinel_count++;
    }
    if (master == NULL)
        config_problem(check, "redis.master_name",
                       "no master name given (required with redis.sentinels)");
    else if (!redis_printable(master, REDIS_HOST_MAX))
        config_problem(check, "redis.master_name", "bad name '%s' (printable, no space)", master);
    else
        redis->master_name = config_strdup(check, "redis.master_name", master);
}

/* Exactly one of host, socket and sentinels (or none: no cache). */
static void
redis_check_target(struct config_check *check, cfg_t *cfg, struct redis_config *redis)
{
    const char *host = redis_optional(cfg, "host");
    const char *socket = redis_optional(cfg, "socket");
    long port = cfg_getint(cfg, "port");

    redis_check_sentinels(check, cfg, redis);
    if (host != NULL && socket != NULL)
        config_problem(check, "redis.socket", "given together with redis.host (set one)");
    if (cfg_size(cfg, "sentinels") > 0 && (host != NULL || socket != NULL))
        config_problem(check, "redis.sentinels",
                       "given together with redis.host or redis.socket (set one)");
    if (host != NULL) {
        if (!redis_printable(host, REDIS_HOST_MAX) || strchr(host, ':') != NULL)
            config_problem(check, "redis.host", "bad host '%s'", host);
        else
            redis->host = config_strdup(check, "redis.host", host);
    }
    if (port < 1 || port > 65535)
        config_problem(check, "redis.port", "bad port '%ld' (1..65535)", port);
    else
        redis->port = (unsigned)port;
    if (socket != NULL && config_check_absolute(check, "redis.socket", socket)) {
        if (strlen(socket) > REDIS_SOCKET_MAX)
            config_problem(check, "redis.socket", "path longer than %d bytes '%s'",
                           REDIS_SOCKET_MAX, socket);
        else
            redis->socket = config_strdup(check, "redis.socket", socket);
    }
    redis->enabled = host != NULL || socket != NULL || cfg_size(cfg, "sentinels") > 0;
}

static void
redis_check_numbers(struct config_check *check, cfg_t *cfg, struct redis_config *redis)
{
    long db = cfg_getint(cfg, "db");
    long timeout = cfg_getint(cfg, "timeout_ms");
    long pool = cfg_getint(cfg, "pool_size");

    if (db < 0 || db > REDIS_DB_MAX)
        config_problem(check, "redis.db", "bad value '%ld' (0..%d)", db, REDIS_DB_MAX);
    else
        redis->db = (unsigned)db;
    if (timeout < 1 || timeout > REDIS_TIMEOUT_MAX_MS)
        config_problem(check, "redis.timeout_ms", "bad value '%ld' (1..%d milliseconds)", timeout,
                       REDIS_TIMEOUT_MAX_MS);
    else
        redis->timeout_ms = (unsigned)timeout;
    if (pool < 1 || pool > REDIS_POOL_MAX)
        config_problem(check, "redis.pool_size", "bad value '%ld' (1..%d)", pool, REDIS_POOL_MAX);
    else
        redis->pool_size = (unsigned)pool;
}

static void
redis_check_password(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = redis_optional(cfg, "password_file");
    char password[REDIS_PASSWORD_MAX];
    char err[512];

    if (value == NULL || !config_check_absolute(check, "redis.password_file", value))
        return;
    config->redis.password_file = config_strdup(check, "redis.password_file", value);
    if ((config->mode & MILTER_MODE_VERIFY) == 0 || !config->redis.enabled)
        return;
    err[0] = '\0';
    if (xsmtp_private_file_read_line(value, password, sizeof password, err, sizeof err) != XSMTP_OK)
        config_problem(check, "redis.password_file", "%s",
                       err[0] != '\0' ? err : "cannot read the password");
    explicit_bzero(password, sizeof password);
}

static void
redis_validate(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    struct redis_config *redis = &config->redis;
    const char *prefix = cfg_getstr(cfg, "prefix");

    redis_check_target(check, cfg, redis);
    redis_check_numbers(check, cfg, redis);
    redis_check_password(check, cfg, config);
    if (!redis_printable(prefix, CACHE_PREFIX_MAX))
        config_problem(check, "redis.prefix",
                       "bad prefix '%s' (1..%d printable characters, no space)",
                       prefix != NULL ? prefix : "", CACHE_PREFIX_MAX);
    else
        redis->prefix = config_strdup(check, "redis.prefix", prefix);
}

static void
redis_free(struct milter_config *config)
{
    struct redis_config *redis = &config->redis;

    free(redis->host);
    free(redis->socket);
    free(redis->password_file);
    free(redis->prefix);
    for (size_t i = 0; i < redis->sentinel_count; i++)
        free(redis->sentinels[i]);
    free(redis->sentinels);
    free(redis->master_name);
    memset(redis, 0, sizeof *redis);
}

const struct config_section config_section_redis = {
    .name = "redis",
    .options = redis_options,
    .validate = redis_validate,
    .free = redis_free,
};
