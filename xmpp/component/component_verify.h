/*
 * component_verify.h -- the verify query of XSMTP-1 s6, split into a
 * strict parser of the <verify/> attributes and a pure decision function,
 * so both can be unit-tested without a server.
 */
#ifndef XSMTP_COMPONENT_VERIFY_H
#define XSMTP_COMPONENT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <strophe.h>

#include "hash/extract.h"
#include "hash/identity.h"
#include "hash/taglist.h"
#include "xmpp/component/component.h"

struct component_request {
    char identity[XSMTP_IDENTITY_SIZE]; /* lowercased */
    const char *identity_domain;        /* points into identity */
    const char *msgid;                  /* points into the stanza */
    const char *from;                   /* points into the stanza */
    char t[11];
    uint64_t time;
    char ip[XSMTP_IP_MAX + 1];
    char k[XSMTP_KEYID_MAX + 1];
    char bh[XSMTP_B64_SHA256 + 1];
    char h[XSMTP_B64_SHA256 + 1];
    bool has_relay;
    char relay[XSMTP_IP_MAX + 1];
};

/*
 * Reads every attribute of verify strictly.  On a missing or malformed
 * attribute returns XSMTP_EMALFORMED and sets *problem to a static text
 * naming it ("missing attribute 'k'"), safe to log and to send back.
 */
xsmtp_status component_request_parse(xmpp_stanza_t *verify, struct component_request *req,
                                     const char **problem);

/*
 * Decides a parsed request (see component_verify.c for the order of the
 * checks).  now: Unix seconds.  Never answers resource-constraint, nor
 * bad-request except for values the MAC code itself refuses.
 */
struct component_answer component_decide(const struct component_config *cfg,
                                         const struct xsmtp_keytable *keys,
                                         const struct component_request *req, uint64_t now);

#endif
