/*
 * callbacks.h -- the libmilter filter description of xsmtp-milter.
 */
#ifndef XSMTP_CALLBACKS_H
#define XSMTP_CALLBACKS_H

#include <libmilter/mfapi.h>

/* The filter description to pass to smfi_register(). */
struct smfiDesc *callbacks_filter(void);

#endif
