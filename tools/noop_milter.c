/*
 * noop_milter.c -- the floor of the milter protocol, for tools/bench: a
 * libmilter filter that does nothing but add one header at end of message.
 *
 * It takes the same protocol steps as xsmtp-milter (connect, HELO, MAIL,
 * headers, EOH, body, EOM; RCPT, DATA and unknown commands negotiated
 * away), keeps a small per-connection state as any real filter must, and
 * sets TCP_NODELAY on an inet listener exactly as xsmtp-milter does
 * (without it every milter stalls ~40 ms per message over TCP), so the
 * difference to xsmtp-milter is the work xsmtp does and nothing else.
 *
 *   noop_milter -s unix:/path.sock | inet:PORT@HOST [-T] [-r]
 *     -T  leave Nagle's algorithm on (no TCP_NODELAY on the listener)
 *     -r  take RCPT and DATA too (answer continue) instead of negotiating
 *         them away: an experiment on the MTA's write pattern (PERFORMANCE.md)
 *
 * It runs in the foreground until SIGTERM or SIGINT.
 */
#include "config.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmilter/mfapi.h>

/* Set once by main() before smfi_main(): -r. */
static int take_rcpt_and_data;

/* Per connection: what a filter typically remembers between callbacks. */
struct noop_session {
    unsigned long headers;
    unsigned long long body_bytes;
};

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long offered_actions, unsigned long offered_steps,
               unsigned long unused2, unsigned long unused3, unsigned long *actions,
               unsigned long *steps, unsigned long *unused2_out, unsigned long *unused3_out)
{
    (void)ctx;
    (void)unused2;
    (void)unused3;
    /* The same actions and skipped steps as xsmtp-milter (callbacks.c). */
    *actions = offered_actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
    *steps = offered_steps &
             (take_rcpt_and_data ? SMFIP_NOUNKNOWN : SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOUNKNOWN);
    *unused2_out = 0;
    *unused3_out = 0;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct noop_session *session = calloc(1, sizeof *session);

    (void)hostname;
    (void)hostaddr;
    if (session == NULL)
        return SMFIS_TEMPFAIL;
    if (smfi_setpriv(ctx, session) != MI_SUCCESS) {
        free(session);
        return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

static sfsistat
noop_helo(SMFICTX *ctx, char *helo)
{
    (void)ctx;
    (void)helo;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_envfrom(SMFICTX *ctx, char **argv)
{
    struct noop_session *session = smfi_getpriv(ctx);

    (void)argv;
    if (session == NULL)
        return SMFIS_TEMPFAIL;
    session->headers = 0;
    session->body_bytes = 0;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_data(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
    struct noop_session *session = smfi_getpriv(ctx);

    (void)name;
    (void)value;
    if (session != NULL)
        session->headers++;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_eoh(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *chunk, size_t length)
{
    struct noop_session *session = smfi_getpriv(ctx);

    (void)chunk;
    if (session != NULL)
        session->body_bytes += length;
    return SMFIS_CONTINUE;
}

static sfsistat
noop_eom(SMFICTX *ctx)
{
    static char name[] = "X-Milterload-Noop";
    static char value[] = "passed";

    if (smfi_addheader(ctx, name, value) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_ACCEPT;
}

static sfsistat
noop_close(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

/*
 * libmilter does not hand out its listening descriptor: find the TCP
 * socket in listening state among our own (only one exists this early).
 */
static void
set_nodelay_on_listener(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *entry;
    int on = 1;

    if (dir == NULL)
        return;
    while ((entry = readdir(dir)) != NULL) {
        int fd = atoi(entry->d_name), listening = 0, type = 0;
        socklen_t size = sizeof listening;
        struct sockaddr_storage address;
        socklen_t address_size = sizeof address;

        if (entry->d_name[0] == '.' || fd <= 2)
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening)
            continue;
        size = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM ||
            getsockname(fd, (struct sockaddr *)&address, &address_size) != 0 ||
            (address.ss_family != AF_INET && address.ss_family != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
            perror("noop_milter: TCP_NODELAY");
    }
    closedir(dir);
}

int
main(int argc, char **argv)
{
    static char filter_name[] = "milterload-noop";
    static struct smfiDesc filter = {
        .xxfi_name = filter_name,
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
        .xxfi_connect = noop_connect,
        .xxfi_helo = noop_helo,
        .xxfi_envfrom = noop_envfrom,
        .xxfi_envrcpt = noop_envrcpt,
        .xxfi_data = noop_data,
        .xxfi_header = noop_header,
        .xxfi_eoh = noop_eoh,
        .xxfi_body = noop_body,
        .xxfi_eom = noop_eom,
        .xxfi_close = noop_close,
        .xxfi_negotiate = noop_negotiate,
    };
    const char *socket_spec = NULL;
    int nodelay = 1, option;

    while ((option = getopt(argc, argv, "s:Tr")) != -1) {
        switch (option) {
        case 's': socket_spec = optarg; break;
        case 'T': nodelay = 0; break;
        case 'r': take_rcpt_and_data = 1; break;
        default:
            socket_spec = NULL;
            optind = argc + 1;
            break;
        }
    }
    if (socket_spec == NULL || optind != argc) {
        fprintf(stderr, "usage: noop_milter -s unix:/PATH|inet:PORT@HOST [-T] [-r]\n");
        return 2;
    }
    if (smfi_register(filter) != MI_SUCCESS || smfi_setconn((char *)socket_spec) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "noop_milter: cannot listen on %s\n", socket_spec);
        return 1;
    }
    if (nodelay)
        set_nodelay_on_listener();
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
