/*
 * private_file.c -- open secret-holding files only when they are private.
 *
 * The check is made with fstat on the descriptor we are about to read, so a
 * file swapped between a stat and an open cannot slip through.  The open is
 * non-blocking so that a FIFO planted at the path cannot hang the daemon;
 * blocking mode is restored once the file is known to be a regular file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "hash/util/private_file.h"

static void
set_error(char *err, size_t errsz, const char *path, const char *what, int error_number)
{
    char system_text[128] = "";

    if (err == NULL || errsz == 0)
        return;
    if (error_number != 0) {
        /* GNU strerror_r: returns the text, which may not be in our buffer. */
        const char *text = strerror_r(error_number, system_text, sizeof system_text);
        snprintf(err, errsz, "%s: %s: %s", path, what, text);
    } else {
        snprintf(err, errsz, "%s: %s", path, what);
    }
}

xsmtp_status
xsmtp_private_file_open(const char *path, FILE **out, char *err, size_t errsz)
{
    struct stat info;

    if (err != NULL && errsz > 0)
        err[0] = '\0';
    if (out == NULL || path == NULL) {
        set_error(err, errsz, path == NULL ? "(null)" : path, "no path", 0);
        return XSMTP_EIO;
    }
    *out = NULL;

    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        set_error(err, errsz, path, "cannot open", errno);
        return XSMTP_EIO;
    }
    if (fstat(fd, &info) != 0) {
        set_error(err, errsz, path, "cannot stat", errno);
        close(fd);
        return XSMTP_EIO;
    }
    if (!S_ISREG(info.st_mode)) {
        set_error(err, errsz, path, "not a regular file", 0);
        close(fd);
        return XSMTP_EIO;
    }
    if ((info.st_mode & 077) != 0) {
        if (err != NULL && errsz > 0)
            snprintf(err, errsz,
                     "%s: group or other may access it (mode %04o); run chmod 600 on it", path,
                     (unsigned)(info.st_mode & 07777));
        close(fd);
        return XSMTP_EPERM;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        set_error(err, errsz, path, "cannot set blocking mode", errno);
        close(fd);
        return XSMTP_EIO;
    }
    FILE *file = fdopen(fd, "r");
    if (file == NULL) {
        set_error(err, errsz, path, "cannot open", errno);
        close(fd);
        return XSMTP_EIO;
    }
    *out = file;
    return XSMTP_OK;
}

xsmtp_status
xsmtp_private_file_read_line(const char *path, char *out, size_t outsz, char *err, size_t errsz)
{
    FILE *file = NULL;
    xsmtp_status status;

    if (out == NULL || outsz == 0) {
        set_error(err, errsz, path == NULL ? "(null)" : path, "no room for the line", 0);
        return XSMTP_ETOOBIG;
    }
    out[0] = '\0';
    status = xsmtp_private_file_open(path, &file, err, errsz);
    if (status != XSMTP_OK)
        return status;

    /* Our own stdio buffer, so the secret can be wiped from it afterwards. */
    char *io_buffer = malloc(BUFSIZ);
    if (io_buffer == NULL || setvbuf(file, io_buffer, _IOFBF, BUFSIZ) != 0) {
        fclose(file);
        free(io_buffer);
        set_error(err, errsz, path, "out of memory", 0);
        return XSMTP_ENOMEM;
    }

    size_t used = 0;
    int c;
    status = XSMTP_OK;
    while ((c = getc(file)) != EOF && c != '\n') {
        if (c == '\0') {
            set_error(err, errsz, path, "NUL byte in the first line", 0);
            status = XSMTP_EMALFORMED;
            break;
        }
        if (used + 1 >= outsz) {
            set_error(err, errsz, path, "first line too long", 0);
            status = XSMTP_ETOOBIG;
            break;
        }
        out[used++] = (char)c;
    }
    if (status == XSMTP_OK && ferror(file)) {
        set_error(err, errsz, path, "read error", 0);
        status = XSMTP_EIO;
    }
    fclose(file);
    OPENSSL_cleanse(io_buffer, BUFSIZ);
    free(io_buffer);

    if (status == XSMTP_OK && used > 0 && out[used - 1] == '\r')
        used--;
    if (status == XSMTP_OK && used == 0) {
        set_error(err, errsz, path, "empty first line", 0);
        status = XSMTP_EMALFORMED;
    }
    if (status != XSMTP_OK) {
        OPENSSL_cleanse(out, outsz);
        out[0] = '\0';
        return status;
    }
    out[used] = '\0';
    return XSMTP_OK;
}
