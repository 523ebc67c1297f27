/* .npz: a zip of .npy members named "<key>.npy" (numpy.savez). The reader
 * accepts stored and deflated members; the writer stores them uncompressed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/zipread.h"

/* Bytes an .npy image with this header must hold, or 0 for a dtype the
 * reader refuses anyway (its own message says so). */
static size_t npy_expected_bytes(const char *descr, int ndim, const int64_t *shape,
                                 size_t data_start) {
    size_t esize = !strcmp(descr, "<f4") || !strcmp(descr, "<i4") ? 4
                   : !strcmp(descr, "<i8")                          ? 8
                                                                    : 0;
    size_t n = esize, total;
    for (int i = 0; i < ndim && n; i++)
        if ((uint64_t)shape[i] > SIZE_MAX || !mnv3_mul_size(n, (size_t)shape[i], &n)) return 0;
    return n && mnv3_add_size(n, data_start, &total) ? total : 0;
}

/* Before inflating a member: its .npy header, read from the first bytes,
 * must account for exactly the size the zip directory declares, and that
 * size must fit the file budget with what was read so far. */
static int check_member_size(zip_t *za, zip_uint64_t index, const char *member,
                             const char *label, size_t total_so_far, mnv3_error *err) {
    size_t declared, got;
    if (mnv3_zip_member_size(za, index, member, label, &declared, err) != MNV3_OK)
        return MNV3_FAIL;
    size_t cap = MNV3_FORMATS_MAX_NPY_HEADER + 16;
    if (declared <= cap) return MNV3_OK; /* small: its full read checks it */
    unsigned char *head = malloc(cap ? cap : 1);
    if (!head) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    int rc = mnv3_zip_read_prefix(za, index, member, label, head, cap, &got, err);
    char descr[MNV3_NPY_DESCR_CAP];
    int ndim;
    int64_t shape[MNV3_MAX_DIMS];
    size_t data_start;
    char member_label[512];
    snprintf(member_label, sizeof member_label, "%s: %s", label, member);
    if (rc == MNV3_OK)
        rc = mnv3_parse_npy_header(head, got, member_label, descr, &ndim, shape, &data_start, err);
    free(head);
    if (rc != MNV3_OK) return MNV3_FAIL;
    size_t expect = npy_expected_bytes(descr, ndim, shape, data_start), total;
    if (expect && expect != declared)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, member_label,
                              "the zip directory declares %zu bytes but the .npy header "
                              "needs %zu: a damaged or crafted archive",
                              declared, expect);
    if (!mnv3_add_size(total_so_far, declared, &total) || total > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_over_budget(err, label, "inflating the arrays",
                                     (unsigned long long)total);
    return MNV3_OK;
}

static int read_npz_archive(zip_t *za, const char *label, int allow_integers, mnv3_tensors *out,
                            mnv3_error *err) {
    mnv3_tensors ts = {0};
    zip_int64_t n = zip_get_num_entries(za, 0);
    size_t total = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *member = zip_get_name(za, (zip_uint64_t)i, 0);
        if (!member) {
            mnv3_tensors_free(&ts);
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "unreadable zip entry %lld",
                                  (long long)i);
        }
        size_t mlen = strlen(member);
        if (mlen > 0 && member[mlen - 1] == '/') continue; /* directory entry */
        if (mlen <= 4 || strcmp(member + mlen - 4, ".npy") != 0) {
            mnv3_tensors_free(&ts);
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "member '%s' is not a .npy file",
                                  member);
        }
        unsigned char *data;
        size_t len;
        if (check_member_size(za, (zip_uint64_t)i, member, label, total, err) != MNV3_OK) {
            mnv3_tensors_free(&ts);
            return MNV3_FAIL;
        }
        if (mnv3_zip_read_member(za, (zip_uint64_t)i, member, label, &data, &len, err) !=
            MNV3_OK) {
            mnv3_tensors_free(&ts);
            return MNV3_FAIL;
        }
        if (!mnv3_add_size(total, len, &total) || total > MNV3_FORMATS_MAX_BYTES) {
            free(data);
            mnv3_tensors_free(&ts);
            return mnv3_fail_over_budget(err, label, "inflating the arrays",
                                         (unsigned long long)total);
        }
        char *key = malloc(mlen - 3);
        if (!key) {
            free(data);
            mnv3_tensors_free(&ts);
            return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
        }
        memcpy(key, member, mlen - 4);
        key[mlen - 4] = '\0';
        mnv3_tensor t;
        /* Errors name the member too, so a bad array among many can be found. */
        char member_label[512];
        snprintf(member_label, sizeof member_label, "%s: %s", label, member);
        int rc = mnv3_read_npy_owned(data, len, member_label, key, allow_integers, &t, err);
        free(key);
        if (rc != MNV3_OK) {
            mnv3_tensors_free(&ts);
            return MNV3_FAIL;
        }
        rc = mnv3_tensors_add(&ts, t.name, t.dtype, t.ndim, t.shape, t.data, err);
        free(t.name);
        if (rc != MNV3_OK) {
            mnv3_tensors_free(&ts);
            return MNV3_FAIL;
        }
    }
    if (mnv3_tensors_check_unique(&ts, label, err) != MNV3_OK) {
        mnv3_tensors_free(&ts);
        return MNV3_FAIL;
    }
    snprintf(ts.format, sizeof ts.format, "npz");
    *out = ts;
    return MNV3_OK;
}

int mnv3_read_npz_buffer(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                         mnv3_error *err) {
    memset(out, 0, sizeof *out);
    zip_t *za;
    if (mnv3_zip_open_buffer(buf, len, label, &za, err) != MNV3_OK) return MNV3_FAIL;
    int rc = read_npz_archive(za, label, 0, out, err);
    zip_discard(za);
    return rc;
}

/* The whole file is read first (it is within the budget): libzip's file
 * source would otherwise stat and seek the file again for every member. */
static int read_npz_file(const char *path, int allow_integers, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t len;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, err) != MNV3_OK) return MNV3_FAIL;
    zip_t *za;
    if (mnv3_zip_open_buffer(buf, len, path, &za, err) != MNV3_OK) {
        free(buf);
        return MNV3_FAIL;
    }
    int rc = read_npz_archive(za, path, allow_integers, out, err);
    zip_discard(za);
    free(buf);
    return rc;
}

int mnv3_read_npz(const char *path, mnv3_tensors *out, mnv3_error *err) {
    return read_npz_file(path, 0, out, err);
}

int mnv3_read_npz_with_integers(const char *path, mnv3_tensors *out, mnv3_error *err) {
    return read_npz_file(path, 1, out, err);
}

int mnv3_write_npz(const char *path, const mnv3_tensors *ts, mnv3_error *err) {
    zip_t *za;
    if (mnv3_zip_create(path, &za, err) != MNV3_OK) return MNV3_FAIL;
    for (size_t i = 0; i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        unsigned char *npy;
        size_t len;
        char member[512];
        if (snprintf(member, sizeof member, "%s.npy", t->name) >= (int)sizeof member) {
            zip_discard(za);
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor name '%.60s...' is too long", t->name);
        }
        if (mnv3_encode_npy(t, path, &npy, &len, err) != MNV3_OK ||
            mnv3_zip_add_stored(za, member, npy, len, path, err) != MNV3_OK) {
            zip_discard(za);
            return MNV3_FAIL;
        }
    }
    return mnv3_zip_finish(za, path, err);
}
