/*
 * component_harness.h -- an xsmtp-component without a server, for the
 * fuzz targets fuzz_component_iq.c and fuzz_component_notice.c.
 *
 * The fuzz input is a sequence of stanzas separated by NUL octets; each is
 * parsed with libstrophe's own parser (xmpp_stanza_new_from_string), as
 * the server's stream would hand it over, and given to the component's
 * permanent handler.  The handlers' xmpp_send() is replaced at link time
 * (-Wl,--wrap=xmpp_send) by a checker that serializes every answer,
 * parses it back (it must be well-formed) and holds it to the rules:
 *   - an IQ get/set with an id and a from gets exactly one answer, of type
 *     result or error, with the same id, to the asker, from our JID; an IQ
 *     result or error gets none (RFC 6120 s8.2.3);
 *   - a verdict says pass only when the MAC is right (recomputed here with
 *     OpenSSL from the query's attributes, independently of hash/token.c)
 *     and bad-hash only when it is wrong;
 *   - a <message/> never gets an error; a forwarded notice is a headline
 *     to a bare JID of a domain we serve, with a body and a <progress/>
 *     that carries only the five attributes of XSMTP-1 s8.
 * The clock is fake: Unix time 1795000100 (XSMTP-1 vector 1 is 100 s
 * old), and the monotonic clock advances 10 ms per stanza, so a burst of
 * stanzas from one domain meets the rate limit (50/s, burst 5).
 */
#ifndef XSMTP_COMPONENT_HARNESS_H
#define XSMTP_COMPONENT_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Sets up the component once (key table in a private temp file). */
void harness_init(void);
/* Feeds every stanza of data (split at NUL octets, at most 32) to the
 * handler for `name` ("iq" or "message"); other stanzas are skipped. */
void harness_feed(const uint8_t *data, size_t size, const char *name);

#endif
