/*
 * client_text.h -- checks on the text the XMPP client puts on the wire.
 *
 * libstrophe escapes < > & ' " in attribute values, but it writes every
 * other byte as it is: a control character or invalid UTF-8 would make the
 * server close the stream (and with it every query in flight), and a tab
 * would reach the component as a space (XML attribute normalization),
 * changing the MACed message-id.  So such values are refused before a
 * stanza is built.  Pure functions, unit-tested in tests/unit/check_client_text.c.
 */
#ifndef XSMTP_CLIENT_TEXT_H
#define XSMTP_CLIENT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when value is at most max octets of well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF) whose characters are all
 * XML 1.0 Chars other than tab, CR and LF (no U+0000..U+001F, U+FFFE, U+FFFF).
 * The empty string is accepted.
 */
bool xclient_text_xml_ok(const char *value, size_t max);

/* Validates a domain JID (XSMTP-1 s2 domain rules) and writes it lowercased. */
bool xclient_text_domain(const char *in, char *out, size_t outsz);

/* True for local@domain/resource with all three parts non-empty. */
bool xclient_text_full_jid(const char *jid);

#endif
