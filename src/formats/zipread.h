/* Bounds-checked reading of zip archives through libzip, shared by the
 * .npz and torch.save readers. */
#ifndef MNV3_ZIPREAD_H
#define MNV3_ZIPREAD_H

#include <zip.h>

#include "mnv3.h"

int mnv3_zip_open_file(const char *path, zip_t **za, mnv3_error *err);
/* buf must outlive the archive. */
int mnv3_zip_open_buffer(const void *buf, size_t len, const char *label, zip_t **za,
                         mnv3_error *err);
/* Reads a whole member (at most MNV3_FORMATS_MAX_BYTES) into a malloc'd buffer,
 * checking that it holds exactly the size the directory declares and its CRC. */
int mnv3_zip_read_member(zip_t *za, zip_uint64_t index, const char *member, const char *label,
                         unsigned char **data, size_t *len, mnv3_error *err);

/* The member's declared (uncompressed) size, or a one-line error. */
int mnv3_zip_member_size(zip_t *za, zip_uint64_t index, const char *member, const char *label,
                         size_t *size, mnv3_error *err);
/* Inflates only the first bytes of a member (at most cap; *got says how many),
 * so its header can be checked against its declared size before the rest. */
int mnv3_zip_read_prefix(zip_t *za, zip_uint64_t index, const char *member, const char *label,
                         unsigned char *buf, size_t cap, size_t *got, mnv3_error *err);

/* ---- writing (.npz, torch.save) ---- */
/* Creates (truncates) an archive; zip_close or zip_discard it. */
int mnv3_zip_create(const char *path, zip_t **za, mnv3_error *err);
/* Adds member name, stored uncompressed; takes ownership of data (malloc'd),
 * freed on failure too. */
int mnv3_zip_add_stored(zip_t *za, const char *name, void *data, size_t len, const char *path,
                        mnv3_error *err);
/* zip_close, or the error (the archive is discarded). */
int mnv3_zip_finish(zip_t *za, const char *path, mnv3_error *err);

#endif
