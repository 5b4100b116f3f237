/*
 * token.c -- the canonical input of XSMTP-1 s3 and its HMAC-SHA256.
 *
 * One function walks the seven fields in spec order and hands the bytes to
 * a sink; building the canonical text for tests and feeding the MAC use the
 * same walk, so the bytes MACed are by construction the bytes a test sees.
 * The MAC path streams straight into a copy of the key's pre-keyed context:
 * no per-message key setup and no 16 KiB buffer per call.
 */
#include "config.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "hash/b64.h"
#include "hash/token.h"

#define MAC_LEN 32

typedef xsmtp_status (*canonical_sink)(void *sink, const char *data, size_t len);

struct buffer_sink {
    char *out;
    size_t size;
    size_t used;
};

static xsmtp_status
buffer_append(void *sink, const char *data, size_t len)
{
    struct buffer_sink *buffer = sink;
    if (len > buffer->size - buffer->used)
        return XSMTP_ETOOBIG;
    memcpy(buffer->out + buffer->used, data, len);
    buffer->used += len;
    return XSMTP_OK;
}

static xsmtp_status
mac_append(void *sink, const char *data, size_t len)
{
    return EVP_MAC_update(sink, (const unsigned char *)data, len) == 1 ? XSMTP_OK : XSMTP_ECRYPTO;
}

/* A value may hold neither CR nor LF: one field could then pose as the next. */
static bool
value_ok(const char *value)
{
    return value != NULL && strpbrk(value, "\r\n") == NULL;
}

static xsmtp_status
emit_lowercased(const char *value, canonical_sink sink, void *state)
{
    char chunk[256];
    size_t len = strlen(value);

    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        for (size_t i = 0; i < n; i++) {
            char c = value[done + i];
            chunk[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        xsmtp_status status = sink(state, chunk, n);
        if (status != XSMTP_OK)
            return status;
        done += n;
    }
    return XSMTP_OK;
}

static xsmtp_status
emit_canonical(const struct xsmtp_token_input *input, canonical_sink sink, void *state)
{
    const struct {
        const char *label;
        const char *value;
        bool lowercase;
    } fields[] = {
        {"identity:", input->identity, true},
        {"message-id:", input->msgid, false},
        {"from:", input->from, true},
        {"time:", input->t, false},
        {"ip:", input->ip, false},
        {"body-hash:", input->bh, false},
        {"key:", input->k, false},
    };
    const size_t field_count = sizeof fields / sizeof fields[0];
    xsmtp_status status;

    for (size_t i = 0; i < field_count; i++) {
        if (!value_ok(fields[i].value))
            return XSMTP_EMALFORMED;
    }
    status = sink(state, "xsmtp-1\n", 8);
    for (size_t i = 0; i < field_count && status == XSMTP_OK; i++) {
        status = sink(state, fields[i].label, strlen(fields[i].label));
        if (status != XSMTP_OK)
            break;
        if (fields[i].lowercase)
            status = emit_lowercased(fields[i].value, sink, state);
        else
            status = sink(state, fields[i].value, strlen(fields[i].value));
        if (status == XSMTP_OK)
            status = sink(state, "\n", 1);
    }
    return status;
}

xsmtp_status
xsmtp_canonical_build(const struct xsmtp_token_input *input, char *out, size_t outsz,
                      size_t *outlen)
{
    if (outlen != NULL)
        *outlen = 0;
    if (input == NULL || out == NULL || outlen == NULL)
        return XSMTP_EMALFORMED;

    struct buffer_sink buffer = {out, outsz, 0};
    xsmtp_status status = emit_canonical(input, buffer_append, &buffer);
    if (status != XSMTP_OK)
        return status;
    *outlen = buffer.used;
    return XSMTP_OK;
}

/* The raw 32-byte MAC of input under key. */
static xsmtp_status
token_mac_raw(const struct xsmtp_key *key, const struct xsmtp_token_input *input,
              unsigned char mac[MAC_LEN])
{
    if (key == NULL || input == NULL)
        return XSMTP_EMALFORMED;
    if (key->mac_template == NULL)
        return XSMTP_ECRYPTO;

    EVP_MAC_CTX *context = EVP_MAC_CTX_dup(key->mac_template);
    if (context == NULL)
        return XSMTP_ENOMEM;
    xsmtp_status status = emit_canonical(input, mac_append, context);
    size_t mac_len = 0;
    if (status == XSMTP_OK &&
        (EVP_MAC_final(context, mac, &mac_len, MAC_LEN) != 1 || mac_len != MAC_LEN))
        status = XSMTP_ECRYPTO;
    EVP_MAC_CTX_free(context);
    return status;
}

xsmtp_status
xsmtp_token_mac(const struct xsmtp_key *key, const struct xsmtp_token_input *input,
                char out[XSMTP_B64_SHA256 + 1])
{
    unsigned char mac[MAC_LEN];

    if (out == NULL)
        return XSMTP_EMALFORMED;
    out[0] = '\0';
    xsmtp_status status = token_mac_raw(key, input, mac);
    if (status != XSMTP_OK)
        return status;
    return xsmtp_b64_encode(mac, sizeof mac, out, XSMTP_B64_SHA256 + 1);
}

xsmtp_status
xsmtp_token_verify(const struct xsmtp_key *key, const struct xsmtp_token_input *input,
                   const char *claimed_h)
{
    unsigned char claimed[MAC_LEN];
    unsigned char computed[MAC_LEN];
    size_t claimed_len;

    if (claimed_h == NULL)
        return XSMTP_EMALFORMED;
    /* Strict decoding: h has exactly one spelling, so comparing bytes is enough. */
    size_t text_len = strnlen(claimed_h, XSMTP_B64_SHA256 + 1);
    if (text_len != XSMTP_B64_SHA256 ||
        xsmtp_b64_decode(claimed_h, text_len, claimed, sizeof claimed, &claimed_len) != XSMTP_OK ||
        claimed_len != MAC_LEN)
        return XSMTP_EMALFORMED;

    xsmtp_status status = token_mac_raw(key, input, computed);
    if (status != XSMTP_OK)
        return status;
    return CRYPTO_memcmp(claimed, computed, MAC_LEN) == 0 ? XSMTP_OK : XSMTP_EMISMATCH;
}

xsmtp_status
xsmtp_hmac_sha256_b64(const unsigned char *secret, size_t secretlen, const char *data,
                      size_t datalen, char out[XSMTP_B64_SHA256 + 1])
{
    unsigned char mac[MAC_LEN];
    size_t mac_len = 0;

    if (out == NULL)
        return XSMTP_EMALFORMED;
    out[0] = '\0';
    if ((secret == NULL && secretlen > 0) || (data == NULL && datalen > 0))
        return XSMTP_EMALFORMED;
    static const unsigned char empty[1] = {0};
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret != NULL ? secret : empty, secretlen,
                  (const unsigned char *)(data != NULL ? (const void *)data : empty), datalen, mac,
                  sizeof mac, &mac_len) == NULL ||
        mac_len != MAC_LEN)
        return XSMTP_ECRYPTO;
    return xsmtp_b64_encode(mac, sizeof mac, out, XSMTP_B64_SHA256 + 1);
}
