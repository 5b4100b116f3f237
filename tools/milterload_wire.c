/*
 * milterload_wire.c -- the milter protocol's framing, from the MTA's side.
 *
 * A packet is a 32-bit big-endian length (counting the command octet),
 * the command octet, then the data.  Packets are built straight into the
 * connection's output buffer, so one step (macros plus command) leaves in
 * one write(2), as an MTA's buffered stream sends it.  Replies are parsed
 * here too, down to the header changes of end of message.
 */
#include "config.h"

#include <libmilter/mfdef.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/milterload.h"

bool
ml_buf_reserve(struct ml_buf *buf, size_t more)
{
    size_t want, cap;
    unsigned char *grown;

    if (more > SIZE_MAX / 2 - buf->len)
        return false;
    want = buf->len + more;
    if (want <= buf->cap)
        return true;
    cap = buf->cap > 0 ? buf->cap : 1024;
    while (cap < want)
        cap *= 2;
    grown = realloc(buf->data, cap);
    if (grown == NULL)
        return false;
    buf->data = grown;
    buf->cap = cap;
    return true;
}

void
ml_buf_free(struct ml_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

bool
ml_put_bytes(struct ml_buf *buf, const void *data, size_t len)
{
    if (!ml_buf_reserve(buf, len))
        return false;
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return true;
}

bool
ml_put_string(struct ml_buf *buf, const char *text)
{
    return ml_put_bytes(buf, text, strlen(text) + 1);
}

bool
ml_put_u32(struct ml_buf *buf, uint32_t value)
{
    unsigned char bytes[4] = {
        (unsigned char)(value >> 24),
        (unsigned char)(value >> 16),
        (unsigned char)(value >> 8),
        (unsigned char)value,
    };
    return ml_put_bytes(buf, bytes, sizeof bytes);
}

bool
ml_put_u16(struct ml_buf *buf, uint16_t value)
{
    unsigned char bytes[2] = {(unsigned char)(value >> 8), (unsigned char)value};
    return ml_put_bytes(buf, bytes, sizeof bytes);
}

bool
ml_packet_begin(struct ml_buf *buf, char cmd, size_t *start)
{
    *start = buf->len;
    return ml_put_u32(buf, 0) && ml_put_bytes(buf, &cmd, 1);
}

void
ml_packet_end(struct ml_buf *buf, size_t start)
{
    uint32_t length = (uint32_t)(buf->len - start - 4);
    unsigned char *p = buf->data + start;

    p[0] = (unsigned char)(length >> 24);
    p[1] = (unsigned char)(length >> 16);
    p[2] = (unsigned char)(length >> 8);
    p[3] = (unsigned char)length;
}

bool
ml_put_macros(struct ml_buf *buf, char stage, const char *const *pairs, size_t count)
{
    size_t start;

    if (count == 0)
        return true;
    if (!ml_packet_begin(buf, 'D', &start) || !ml_put_bytes(buf, &stage, 1))
        return false;
    for (size_t i = 0; i + 1 < count; i += 2) {
        if (!ml_put_string(buf, pairs[i]) || !ml_put_string(buf, pairs[i + 1]))
            return false;
    }
    ml_packet_end(buf, start);
    return true;
}

uint32_t
ml_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

long
ml_packet_parse(const unsigned char *data, size_t avail, char *cmd, const unsigned char **payload,
                size_t *payload_len)
{
    uint32_t length;

    if (avail < 4)
        return 0;
    length = ml_get_u32(data);
    /* Every packet has its command octet; libmilter caps data at 1 MiB. */
    if (length == 0 || length > ML_PACKET_MAX)
        return -1;
    if (avail - 4 < length)
        return 0;
    *cmd = (char)data[4];
    *payload = data + 5;
    *payload_len = length - 1;
    return (long)length + 4;
}

/* Copies a NUL-terminated field of payload at *offset into out (bounded). */
static bool
take_string(const unsigned char *payload, size_t len, size_t *offset, char *out, size_t outsz,
            bool *truncated)
{
    const unsigned char *end;
    size_t field_len;

    if (*offset >= len || (end = memchr(payload + *offset, '\0', len - *offset)) == NULL)
        return false;
    field_len = (size_t)(end - (payload + *offset));
    if (field_len >= outsz)
        *truncated = true;
    snprintf(out, outsz, "%.*s", (int)(field_len >= outsz ? outsz - 1 : field_len),
             (const char *)payload + *offset);
    *offset += field_len + 1;
    return true;
}

bool
ml_action_parse(char code, const unsigned char *payload, size_t len, struct ml_action *action)
{
    size_t offset = 0;

    memset(action, 0, offsetof(struct ml_action, value) + 1);
    action->code = code;
    if (code == SMFIR_INSHEADER || code == SMFIR_CHGHEADER) {
        if (len < 4)
            return false;
        action->index = ml_get_u32(payload);
        offset = 4;
    }
    if (code == SMFIR_ADDHEADER || code == SMFIR_INSHEADER || code == SMFIR_CHGHEADER)
        return take_string(payload, len, &offset, action->name, sizeof action->name,
                           &action->truncated) &&
               take_string(payload, len, &offset, action->value, sizeof action->value,
                           &action->truncated);
    snprintf(action->value, sizeof action->value, "%.*s",
             (int)(len < sizeof action->value ? len : sizeof action->value - 1),
             (const char *)payload);
    return true;
}
