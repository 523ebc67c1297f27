/* libzip wrappers: every failure becomes one "FILE: problem" line. */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/zipread.h"

/* Consistency checks compare local and central headers, catching archives
 * whose two directories disagree. */
#define OPEN_FLAGS (ZIP_RDONLY | ZIP_CHECKCONS)

/* libzip's words for why an archive does not open, in the reader's terms. */
static const char *open_problem(int code, char *buf, size_t size) {
    if (code == ZIP_ER_EXISTS) return "the archive holds two members with the same name";
    if (code == ZIP_ER_NOZIP) return "not a zip archive";
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    snprintf(buf, size, "not a readable zip archive: %s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return buf;
}

int mnv3_zip_open_file(const char *path, zip_t **za, mnv3_error *err) {
    int errcode = 0;
    *za = zip_open(path, OPEN_FLAGS, &errcode);
    if (*za) return MNV3_OK;
    int unreadable = errcode == ZIP_ER_NOENT || errcode == ZIP_ER_OPEN || errcode == ZIP_ER_READ;
    char why[200];
    return mnv3_fail_code(err, unreadable ? MNV3_ERR_IO : MNV3_ERR_FORMAT, path, "%s",
                          open_problem(errcode, why, sizeof why));
}

int mnv3_zip_open_buffer(const void *buf, size_t len, const char *label, zip_t **za,
                         mnv3_error *err) {
    *za = NULL;
    /* libzip opens zero bytes as an empty archive: an empty file is not one */
    if (len == 0) return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "empty file (0 bytes)");
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    if (!src) {
        int rc = mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "cannot read zip: %s",
                                zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    *za = zip_open_from_source(src, OPEN_FLAGS, &ze);
    if (!*za) {
        zip_source_free(src);
        char why[200];
        int rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "%s",
                                open_problem(zip_error_code_zip(&ze), why, sizeof why));
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);
    return MNV3_OK;
}

int mnv3_zip_read_member(zip_t *za, zip_uint64_t index, const char *member, const char *label,
                         unsigned char **data, size_t *len, mnv3_error *err) {
    *data = NULL;
    *len = 0;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "cannot stat member '%s': %s", member,
                              zip_strerror(za));
    if (st.size > MNV3_FORMATS_MAX_BYTES) { /* before a byte is inflated */
        char what[300];
        snprintf(what, sizeof what, "member '%.200s' (its declared size)", member);
        return mnv3_fail_over_budget(err, label, what, (unsigned long long)st.size);
    }
    size_t size = (size_t)st.size;
    /* Grow the buffer as bytes arrive, so a directory that merely claims a
     * huge member cannot make us allocate it. */
    size_t cap = size < ((size_t)1 << 20) ? size : ((size_t)1 << 20);
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf)
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory reading member '%s'",
                              member);
    zip_file_t *zf = zip_fopen_index(za, index, 0);
    if (!zf) {
        free(buf);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "cannot open member '%s': %s", member,
                              zip_strerror(za));
    }
    size_t got = 0;
    while (got < size) {
        if (got == cap) {
            size_t grown = cap * 2 < size ? cap * 2 : size;
            unsigned char *more = realloc(buf, grown);
            if (!more) {
                zip_fclose(zf);
                free(buf);
                return mnv3_fail_code(err, MNV3_ERR_MEMORY, label,
                                      "out of memory reading member '%s'", member);
            }
            buf = more;
            cap = grown;
        }
        zip_int64_t k = zip_fread(zf, buf + got, cap - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    /* Reading past the end makes libzip verify the CRC and shows oversize data. */
    unsigned char extra;
    zip_int64_t tail = got == size ? zip_fread(zf, &extra, 1) : -1;
    int bad_file = tail != 0;
    char why[160] = "";
    if (bad_file) {
        zip_error_t *ze = zip_file_get_error(zf);
        snprintf(why, sizeof why, "%s", zip_error_strerror(ze));
    }
    zip_fclose(zf);
    if (bad_file) {
        free(buf);
        if (got < size)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "truncated: member '%s' yields %zu of its %zu bytes (%s)", member,
                                  got, size, why);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "member '%s' is corrupt (%s)", member,
                              tail > 0 ? "more data than declared" : why);
    }
    *data = buf;
    *len = size;
    return MNV3_OK;
}

int mnv3_zip_member_size(zip_t *za, zip_uint64_t index, const char *member, const char *label,
                         size_t *size, mnv3_error *err) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
        st.size > SIZE_MAX)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "cannot stat member '%s': %s", member,
                              zip_strerror(za));
    *size = (size_t)st.size;
    return MNV3_OK;
}

int mnv3_zip_read_prefix(zip_t *za, zip_uint64_t index, const char *member, const char *label,
                         unsigned char *buf, size_t cap, size_t *got, mnv3_error *err) {
    *got = 0;
    zip_file_t *zf = zip_fopen_index(za, index, 0);
    if (!zf)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "cannot open member '%s': %s", member,
                              zip_strerror(za));
    while (*got < cap) {
        zip_int64_t k = zip_fread(zf, buf + *got, cap - *got);
        if (k < 0) {
            int rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "member '%s' is corrupt (%s)",
                                    member, zip_error_strerror(zip_file_get_error(zf)));
            zip_fclose(zf);
            return rc;
        }
        if (k == 0) break;
        *got += (size_t)k;
    }
    zip_fclose(zf);
    return MNV3_OK;
}

int mnv3_zip_create(const char *path, zip_t **za, mnv3_error *err) {
    int errcode = 0;
    *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &errcode);
    if (*za) return MNV3_OK;
    zip_error_t ze;
    zip_error_init_with_code(&ze, errcode);
    int rc = mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot create: %s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return rc;
}

int mnv3_zip_add_stored(zip_t *za, const char *name, void *data, size_t len, const char *path,
                        mnv3_error *err) {
    zip_source_t *src = zip_source_buffer(za, data, len, 1);
    if (!src) {
        free(data);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
    }
    zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot add '%s': %s", name, zip_strerror(za));
    }
    if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot store '%s': %s", name, zip_strerror(za));
    return MNV3_OK;
}

int mnv3_zip_finish(zip_t *za, const char *path, mnv3_error *err) {
    if (zip_close(za) == 0) return MNV3_OK;
    int rc = mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot write: %s", zip_strerror(za));
    zip_discard(za);
    return rc;
}
