/* Keras weights in HDF5 (libhdf5) and .keras archives (libzip).
 *
 * File kinds, how they are recognised, out->format and the tensor names:
 *
 * 1. Keras 3 .weights.h5 (model.save_weights("x.weights.h5")), format
 *    "keras-weights-h5". Recognised by a root group "layers" or "vars".
 *    Layout: /layers/<class_snake>[_N]/vars/<i> (datasets "0", "1", ...), the
 *    "vars" group carrying attribute name = the layer's name; the model's own
 *    /vars (usually empty) carries the model name. Every group called "vars"
 *    anywhere in the tree (nested models: layers/functional/layers/...) is
 *    read; the top-level "optimizer" group of a compiled .keras is skipped.
 *    Names: "<layer name>/<variable>" where the variable name comes from
 *    the class in the path (the group above "vars", "_N" suffix stripped):
 *      conv2d, depthwise_conv2d, dense (1 or 2 vars): 0 kernel, 1 bias;
 *      batch_normalization (4 vars): 0 gamma, 1 beta, 2 moving_mean,
 *      3 moving_variance; (2 vars, scale=center=False): moving_mean,
 *      moving_variance.
 *    Any other class or count: "<layer name>/vars/<i>". Without a name
 *    attribute, the layer name is the group path ("layers/conv2d").
 *    Order: Keras 3 records no layer order, and libhdf5 lists groups by
 *    name. Layers are put in write order, taken from the lowest object
 *    header address among their datasets (Keras/h5py write layer by layer
 *    in model order and libhdf5 allocates new headers at increasing
 *    addresses; checked on MobileNetV3Small: all 54 weighted layers in
 *    model order). If any address is unknown, natural path order
 *    (conv2d_2 before conv2d_10). Within a layer, by index.
 *
 * 2. Keras 2 / tf-keras .h5, format "keras-h5": full model (model.save:
 *    weights under /model_weights) or weights only (model.save_weights: at
 *    the root). The group's attribute layer_names lists the layers in model
 *    order (also split as layer_names0, layer_names1, ... for big lists);
 *    each layer group's weight_names lists its datasets in order, paths
 *    relative to the layer group ("conv/kernel:0"). Names: the weight name
 *    minus a ":0" suffix ("conv/kernel", "bn/moving_variance",
 *    "dw/depthwise_kernel", "expanded_conv/depthwise/depthwise_kernel"); when
 *    the weight name does not start with "<layer name>/" (layers of a nested
 *    model), "<layer name>/<weight name>".
 *
 * 3. Keras 3 .keras archive (zip), format "keras": its member
 *    model.weights.h5 is read as kind 1.
 *
 * Data: float16/32/64 datasets, converted to float32 (float64 saturating
 * to +-inf), shapes as stored (Keras HWIO; depthwise (kh, kw, C, 1)). Any
 * other datatype fails naming the dataset.
 *
 * Untrusted input: HDF5's error printing is switched off and its error
 * stack becomes part of the one-line message; rank (<= 8), dims and sizes
 * are checked before allocating (against the file budget); external and
 * soft links (every link on every path opened), external storage and
 * virtual datasets are refused, never followed; layer_names / weight_names
 * repeating a name are refused (checked by sorting, before any read); group
 * walks are bounded in depth and count; every handle is closed on every
 * path. Nothing is written to disk: images are parsed in memory. In the
 * sandbox (below) the reader also has a time backstop and a memory cap. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "formats/keras_h5.h"

#include <hdf5.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/zipread.h"

#define MAX_NAMES 100000     /* links per group, strings per attribute */
#define MAX_NODES 20000      /* groups visited in one walk (hard-link fan-out bounded) */
#define MAX_STRING 4096      /* one layer / weight name */
#define MAX_ATTR_BYTES ((size_t)16 << 20)
#define ARCHIVE_MEMBER "model.weights.h5"

/* ---- errors ------------------------------------------------------------------ */

typedef struct h5msg {
    char desc[200];
    int got;
} h5msg;

static herr_t error_walk_cb(unsigned n, const H5E_error2_t *e, void *user) {
    h5msg *m = user;
    if (n == 0 && e && e->desc) {
        snprintf(m->desc, sizeof m->desc, "%s", e->desc);
        m->got = 1;
    }
    return 0;
}

/* "label: problem (HDF5: innermost error)"; clears HDF5's error stack. */
static int h5fail(const char *label, mnv3_error *err, mnv3_error_code code, const char *fmt, ...)
    MNV3_PRINTF(4, 5);
static int h5fail(const char *label, mnv3_error *err, mnv3_error_code code, const char *fmt, ...) {
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    h5msg m;
    memset(&m, 0, sizeof m);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, error_walk_cb, &m);
    H5Eclear2(H5E_DEFAULT);
    if (m.got && m.desc[0]) return mnv3_fail_code(err, code, label, "%s (HDF5: %s)", msg, m.desc);
    return mnv3_fail_code(err, code, label, "%s", msg);
}

static void h5_quiet(void) {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void close_id(hid_t id) {
    if (id < 0) return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: H5Oclose(id); break;
    }
}

/* ---- small helpers --------------------------------------------------------------- */

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static void strlist_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int strlist_add(strlist *l, const char *s, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    l->v[l->n++] = c;
    return 0;
}

static char *str_join(const char *a, const char *sep, const char *b) {
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = malloc(la + ls + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, sep, ls);
    memcpy(s + la + ls, b, lb + 1);
    return s;
}

/* Natural order: digit runs compare by value ("conv2d_2" < "conv2d_10"). */
static int natcmp(const char *a, const char *b) {
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t na = 0, nb = 0;
            while (a[na] >= '0' && a[na] <= '9') na++;
            while (b[nb] >= '0' && b[nb] <= '9') nb++;
            if (na != nb) return na < nb ? -1 : 1;
            int c = strncmp(a, b, na);
            if (c) return c;
            a += na;
            b += nb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : (*b ? -1 : 0);
}

/* ---- reader ------------------------------------------------------------------ */

typedef struct reader {
    const char *label;
    mnv3_error *err;
    mnv3_tensors *out;
    hid_t lapl; /* link access: external links refused, soft-link depth bounded */
    size_t total_bytes;
    size_t nodes;
} reader;

static herr_t refuse_elink(const char *parent_file, const char *parent_group,
                           const char *child_file, const char *child_object,
                           unsigned *acc_flags, hid_t fapl_id, void *op_data) {
    (void)parent_file, (void)parent_group, (void)child_file, (void)child_object;
    (void)acc_flags, (void)fapl_id, (void)op_data;
    return -1;
}

/* Links: only hard links are followed. An external link (to another file)
 * is refused, and so is a soft link (a path that may point anywhere in the
 * file, also into a cycle) and a user-defined one: Keras and h5py write none. */
static int refuse_link(reader *r, const char *where, const char *name, H5L_type_t type) {
    const char *sep = where && where[0] && strcmp(where, "/") != 0 ? "/" : "";
    if (type == H5L_TYPE_EXTERNAL)
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "'%s%s%s' is an HDF5 external link to another file, refused: "
                              "mnv3 reads nothing outside the file it is given",
                              where ? where : "", sep, name);
    return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                          "'%s%s%s' is an HDF5 %s link, refused: Keras files hold only hard "
                          "links", where ? where : "", sep, name,
                          type == H5L_TYPE_SOFT ? "soft" : "user-defined");
}

/* Opens an object by path below loc, one component at a time, checking that
 * every link on the way is a hard link; want is H5I_GROUP or H5I_DATASET. */
static hid_t open_obj(reader *r, hid_t loc, const char *path, H5I_type_t want) {
    size_t plen = strlen(path);
    if (plen == 0 || plen > 2 * MAX_STRING) {
        mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label, "an object path of %zu bytes", plen);
        return -1;
    }
    char buf[2 * MAX_STRING + 1];
    memcpy(buf, path, plen + 1);
    hid_t cur = -1, id = -1;
    char *comp = buf;
    for (;;) {
        char *slash = strchr(comp, '/');
        if (slash) *slash = '\0';
        if (!comp[0] || strcmp(comp, ".") == 0) {
            close_id(cur);
            mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                           "'%s' is not a plain path (empty or '.' part)", path);
            return -1;
        }
        hid_t at = cur >= 0 ? cur : loc;
        H5L_info_t li;
        if (H5Lget_info(at, comp, &li, H5P_DEFAULT) < 0) {
            close_id(cur);
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot open '%s'", path);
            return -1;
        }
        if (li.type != H5L_TYPE_HARD) {
            close_id(cur);
            refuse_link(r, NULL, path, li.type);
            return -1;
        }
        id = H5Oopen(at, comp, r->lapl);
        close_id(cur);
        cur = -1;
        if (id < 0) {
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot open '%s'", path);
            return -1;
        }
        if (!slash) break;
        if (H5Iget_type(id) != H5I_GROUP) {
            close_id(id);
            mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label, "'%s': a part is not a group", path);
            return -1;
        }
        cur = id;
        comp = slash + 1;
    }
    if (H5Iget_type(id) != want) {
        close_id(id);
        mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label, "'%s' is not a %s", path,
                       want == H5I_GROUP ? "group" : "dataset");
        return -1;
    }
    return id;
}

/* Reads a string attribute (scalar or 1-D, variable or fixed length) into
 * list. An empty non-string array (what tf-keras writes for no weights) is
 * an empty list. */
static int read_string_attr_capped(reader *r, hid_t obj, const char *objname,
                                   const char *name, size_t max_len, strlist *list) {
    int rc = MNV3_FAIL;
    hid_t a = -1, ft = -1, sp = -1, mt = -1;
    char **vl = NULL;
    char *fixed = NULL;
    size_t np = 0;
    a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot open attribute '%s' of '%s'", name,
               objname);
        goto done;
    }
    ft = H5Aget_type(a);
    sp = H5Aget_space(a);
    if (ft < 0 || sp < 0) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read attribute '%s' of '%s'", name,
               objname);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    hssize_t npoints = H5Sget_simple_extent_npoints(sp);
    if (rank < 0 || rank > 1 || npoints < 0 || npoints > MAX_NAMES) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "attribute '%s' of '%s' is not a list of strings",
               name, objname);
        goto done;
    }
    np = (size_t)npoints;
    if (np == 0) {
        rc = MNV3_OK;
        goto done;
    }
    if (H5Tget_class(ft) != H5T_STRING) {
        mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label, "attribute '%s' of '%s' is not a string",
                       name, objname);
        goto done;
    }
    htri_t var = H5Tis_variable_str(ft);
    if (var < 0) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "attribute '%s' of '%s' has a bad string type",
               name, objname);
        goto done;
    }
    mt = H5Tcopy(H5T_C_S1);
    H5T_cset_t cset = H5Tget_cset(ft);
    if (mt < 0 || cset < 0 || H5Tset_cset(mt, cset) < 0) goto h5err;
    if (var) {
        if (H5Tset_size(mt, H5T_VARIABLE) < 0) goto h5err;
        vl = calloc(np, sizeof *vl);
        if (!vl) {
            mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
            goto done;
        }
        if (H5Aread(a, mt, vl) < 0) {
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read attribute '%s' of '%s'", name,
                   objname);
            for (size_t i = 0; i < np; i++)
                free(vl[i]);
            free(vl);
            vl = NULL;
            goto done;
        }
        size_t total = 0;
        for (size_t i = 0; i < np; i++) {
            const char *s = vl[i] ? vl[i] : "";
            size_t len = strlen(s);
            total += len;
            if (total > MAX_ATTR_BYTES) {
                mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label,
                               "attribute '%s' of '%s' holds more than %zu bytes of names", name,
                               objname, MAX_ATTR_BYTES);
                goto done;
            }
            if (len > max_len) {
                mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                               "attribute '%s' of '%s' holds a %zu-byte string", name, objname,
                               len);
                goto done;
            }
            if (strlist_add(list, s, len) != 0) {
                mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
                goto done;
            }
        }
    } else {
        size_t size = H5Tget_size(ft), bytes;
        if (size == 0 || size > max_len || !mnv3_mul_size(size, np, &bytes) ||
            bytes > MAX_ATTR_BYTES) {
            mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                           "attribute '%s' of '%s' has strings of %zu bytes", name, objname, size);
            goto done;
        }
        if (H5Tset_size(mt, size) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0) goto h5err;
        fixed = calloc(bytes, 1);
        if (!fixed) {
            mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
            goto done;
        }
        if (H5Aread(a, mt, fixed) < 0) {
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read attribute '%s' of '%s'", name,
                   objname);
            goto done;
        }
        for (size_t i = 0; i < np; i++) {
            const char *s = fixed + i * size;
            size_t len = 0;
            while (len < size && s[len]) len++;
            if (strlist_add(list, s, len) != 0) {
                mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
                goto done;
            }
        }
    }
    rc = MNV3_OK;
    goto done;
h5err:
    h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read attribute '%s' of '%s'", name, objname);
done:
    if (vl) {
        if (H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, vl) < 0) H5Eclear2(H5E_DEFAULT);
        free(vl);
    }
    free(fixed);
    close_id(mt);
    close_id(sp);
    close_id(ft);
    close_id(a);
    return rc;
}

/* Names: each at most MAX_STRING bytes. */
static int read_string_attr(reader *r, hid_t obj, const char *objname, const char *name,
                            strlist *list) {
    return read_string_attr_capped(r, obj, objname, name, MAX_STRING, list);
}

/* The root's model_config attribute (a tf-keras full-model save), when there
 * is one: its BatchNorm facts. Unreadable, it is a problem, not a failure:
 * the weights may still be read, and the model check reports it. */
static void read_model_config(reader *r, hid_t root) {
    htri_t has = H5Aexists(root, "model_config");
    if (has == 0) return;
    strlist config = {0};
    mnv3_error ignored;
    reader quiet = *r;
    quiet.err = &ignored;
    if (has < 0 || read_string_attr_capped(&quiet, root, "/", "model_config",
                                           MNV3_FORMATS_MAX_JSON_HEADER, &config) != MNV3_OK ||
        config.n != 1) {
        H5Eclear2(H5E_DEFAULT);
        r->out->config.present = -1;
    } else {
        mnv3_config_scan_json(config.v[0], strlen(config.v[0]), &r->out->config);
    }
    strlist_free(&config);
}

/* A string list attribute, or its chunks name0, name1, ... (tf-keras splits
 * attributes that exceed HDF5's object header limit). 1 = found, 0 = absent. */
static int read_names_attr(reader *r, hid_t obj, const char *objname, const char *name,
                           strlist *list, int *found) {
    *found = 0;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0)
        return h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot list attributes of '%s'", objname);
    if (ex > 0) {
        *found = 1;
        return read_string_attr(r, obj, objname, name, list);
    }
    for (int chunk = 0; chunk < 1000; chunk++) {
        char cname[128];
        snprintf(cname, sizeof cname, "%.100s%d", name, chunk);
        ex = H5Aexists(obj, cname);
        if (ex < 0)
            return h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot list attributes of '%s'",
                          objname);
        if (ex == 0) break;
        *found = 1;
        if (read_string_attr(r, obj, objname, cname, list) != MNV3_OK) return MNV3_FAIL;
        if (list->n > MAX_NAMES) /* the chunks together, as one attribute */
            return mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label,
                                  "attributes %s0, %s1, ... of '%s' list more than %d names",
                                  name, name, objname, MAX_NAMES);
    }
    return MNV3_OK;
}

/* Reads one float dataset as float32 and appends it as tensor tname. */
static int read_dataset(reader *r, hid_t loc, const char *path, const char *dsname,
                        const char *tname) {
    int rc = MNV3_FAIL;
    hid_t d = -1, t = -1, s = -1, dcpl = -1;
    float *data = NULL;
    double *tmp = NULL;
    if (r->out->count >= MNV3_KERAS_MAX_TENSORS)
        return mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label,
                              "more than %d variables (at dataset '%s'): not a MobileNetV3 "
                              "weights file", MNV3_KERAS_MAX_TENSORS, dsname);
    d = open_obj(r, loc, path, H5I_DATASET);
    if (d < 0) return MNV3_FAIL;
    /* Storage first: nothing about a dataset whose data lives elsewhere is
     * asked of libhdf5 (a virtual dataset's extent can mean opening its sources). */
    dcpl = H5Dget_create_plist(d);
    if (dcpl < 0) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read dataset '%s'", dsname);
        goto done;
    }
    int next = H5Pget_external_count(dcpl);
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (next != 0) {
        mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                       "dataset '%s' keeps its data in external files (HDF5 external storage), "
                       "refused: mnv3 reads nothing outside the file it is given",
                       dsname);
        goto done;
    }
    if (layout == H5D_VIRTUAL) {
        mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                       "dataset '%s' is an HDF5 virtual dataset (its data lives in other "
                       "datasets or files), refused: mnv3 reads nothing outside the file it is given",
                       dsname);
        goto done;
    }
    if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT && layout != H5D_CHUNKED) {
        h5fail(r->label, r->err, MNV3_ERR_UNSUPPORTED, "dataset '%s' has an unknown storage layout",
               dsname);
        goto done;
    }
    t = H5Dget_type(d);
    s = H5Dget_space(d);
    if (t < 0 || s < 0) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read dataset '%s'", dsname);
        goto done;
    }
    size_t esize = H5Tget_size(t);
    if (H5Tget_class(t) != H5T_FLOAT || (esize != 2 && esize != 4 && esize != 8)) {
        mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                       "dataset '%s' is not float16/32/64 (HDF5 class %d, %zu bytes)", dsname,
                       (int)H5Tget_class(t), esize);
        goto done;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(s);
    int ndim = sc == H5S_SCALAR ? 0 : H5Sget_simple_extent_ndims(s);
    if ((sc != H5S_SCALAR && sc != H5S_SIMPLE) || ndim < 0 || ndim > MNV3_MAX_DIMS) {
        mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                       "dataset '%s' has an unsupported shape (rank %d)", dsname, ndim);
        goto done;
    }
    hsize_t dims[H5S_MAX_RANK];
    int64_t shape[MNV3_MAX_DIMS];
    if (ndim > 0 && H5Sget_simple_extent_dims(s, dims, NULL) != ndim) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read the shape of dataset '%s'", dsname);
        goto done;
    }
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] > (hsize_t)INT64_MAX || dims[i] > (hsize_t)SIZE_MAX ||
            !mnv3_mul_size(numel, (size_t)dims[i], &numel)) {
            mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label, "dataset '%s' has absurd dimensions",
                           dsname);
            goto done;
        }
        shape[i] = (int64_t)dims[i];
    }
    size_t bytes, src_bytes;
    char what[MAX_STRING * 2 + 96];
    if (!mnv3_mul_size(numel, sizeof(float), &bytes) || !mnv3_mul_size(numel, esize, &src_bytes) ||
        bytes > MNV3_FORMATS_MAX_BYTES || src_bytes > MNV3_FORMATS_MAX_BYTES) {
        snprintf(what, sizeof what, "dataset '%s' (%zu elements)", dsname, numel);
        mnv3_fail_over_budget(r->err, r->label, what,
                              (unsigned long long)numel * (unsigned long long)esize);
        goto done;
    }
    if (!mnv3_add_size(r->total_bytes, bytes, &r->total_bytes) ||
        r->total_bytes > MNV3_FORMATS_MAX_BYTES) {
        snprintf(what, sizeof what, "the variables up to dataset '%s'", dsname);
        mnv3_fail_over_budget(r->err, r->label, what, (unsigned long long)r->total_bytes);
        goto done;
    }
    data = malloc(bytes ? bytes : 1);
    if (!data) {
        mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory for dataset '%s'", dsname);
        goto done;
    }
    if (numel > 0) {
        if (esize == 8) {
            tmp = malloc(src_bytes);
            if (!tmp) {
                mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory for dataset '%s'",
                               dsname);
                goto done;
            }
            if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0) {
                h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read dataset '%s'", dsname);
                goto done;
            }
            for (size_t i = 0; i < numel; i++) data[i] = mnv3_f64_to_f32(tmp[i]);
        } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot read dataset '%s'", dsname);
            goto done;
        }
    }
    if (mnv3_tensors_add(r->out, tname, MNV3_F32, ndim, shape, data, r->err) != MNV3_OK) {
        data = NULL; /* freed by mnv3_tensors_add */
        if (r->err) { /* name the file, keep the code */
            char why[sizeof r->err->message];
            snprintf(why, sizeof why, "%s", r->err->message);
            mnv3_fail_code(r->err, (mnv3_error_code)r->err->code, r->label, "%s", why);
        }
        goto done;
    }
    data = NULL;
    snprintf(r->out->items[r->out->count - 1].source_dtype,
             sizeof r->out->items[0].source_dtype, "%s",
             esize == 2 ? "F16" : (esize == 4 ? "F32" : "F64"));
    rc = MNV3_OK;
done:
    free(tmp);
    free(data);
    close_id(dcpl);
    close_id(s);
    close_id(t);
    close_id(d);
    return rc;
}

/* Names of the hard links in a group, in libhdf5's name order. */
typedef struct link_collect {
    strlist *names;
    int overflow, oom;
    H5L_type_t odd_type; /* a link that is not hard: refused */
    char odd_name[256];
} link_collect;

static herr_t link_collect_cb(hid_t g, const char *name, const H5L_info_t *info, void *user) {
    (void)g;
    link_collect *lc = user;
    if (info->type != H5L_TYPE_HARD) {
        lc->odd_type = info->type;
        snprintf(lc->odd_name, sizeof lc->odd_name, "%s", name);
        return 1;
    }
    if (lc->names->n >= MAX_NAMES) {
        lc->overflow = 1;
        return 1;
    }
    size_t len = strlen(name);
    if (len > MAX_STRING) {
        lc->overflow = 1;
        return 1;
    }
    if (strlist_add(lc->names, name, len) != 0) {
        lc->oom = 1;
        return 1;
    }
    return 0;
}

static int list_links(reader *r, hid_t g, const char *gname, strlist *names) {
    link_collect lc;
    memset(&lc, 0, sizeof lc);
    lc.names = names;
    lc.odd_type = H5L_TYPE_HARD;
    hsize_t idx = 0;
    herr_t e = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, link_collect_cb, &lc);
    if (lc.oom) return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    if (lc.odd_type != H5L_TYPE_HARD) {
        H5Eclear2(H5E_DEFAULT);
        return refuse_link(r, gname, lc.odd_name, lc.odd_type);
    }
    if (lc.overflow)
        return mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label,
                              "group '%s' has too many or too long links", gname);
    if (e < 0) return h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot list group '%s'", gname);
    return MNV3_OK;
}

/* ---- Keras 2 / tf-keras ---- */

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name that occurs twice in a list (O(n log n)), or NULL. */
static const char *first_duplicate(const strlist *l, int *oom) {
    *oom = 0;
    if (l->n < 2) return NULL;
    const char **v = malloc(l->n * sizeof *v);
    if (!v) {
        *oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) v[i] = l->v[i];
    qsort(v, l->n, sizeof *v, cmp_str_ptr);
    const char *dup = NULL;
    for (size_t i = 1; i < l->n && !dup; i++)
        if (strcmp(v[i - 1], v[i]) == 0) dup = v[i];
    free(v);
    return dup;
}

/* Refuses a layer_names or weight_names list that repeats a name: each
 * repeat would read the same datasets again (thousands of repeats of
 * thousands of names is hours of work) for tensors that clash anyway. */
static int check_unique_names(reader *r, const strlist *l, const char *attr, const char *obj) {
    int oom;
    const char *dup = first_duplicate(l, &oom);
    if (oom) return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    if (dup)
        return mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                              "attribute %s of '%s' lists '%.200s' more than once: the file is "
                              "corrupt or crafted (Keras writes each name once)",
                              attr, obj, dup);
    return MNV3_OK;
}

static int read_keras2(reader *r, hid_t g, const char *gname) {
    strlist layers = {0};
    int found = 0, rc = MNV3_FAIL;
    if (read_names_attr(r, g, gname, "layer_names", &layers, &found) != MNV3_OK) goto done;
    if (check_unique_names(r, &layers, "layer_names", gname) != MNV3_OK) goto done;
    for (size_t i = 0; i < layers.n; i++) {
        const char *lname = layers.v[i];
        if (!lname[0]) {
            mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label, "empty layer name in layer_names");
            goto done;
        }
        hid_t lg = open_obj(r, g, lname, H5I_GROUP);
        if (lg < 0) goto done;
        strlist wn = {0};
        int wfound = 0;
        int ok = read_names_attr(r, lg, lname, "weight_names", &wn, &wfound) == MNV3_OK;
        if (ok && !wfound) {
            mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                           "layer group '%s' has no weight_names", lname);
            ok = 0;
        }
        if (ok && check_unique_names(r, &wn, "weight_names", lname) != MNV3_OK) ok = 0;
        size_t llen = strlen(lname);
        for (size_t k = 0; ok && k < wn.n; k++) {
            const char *w = wn.v[k];
            size_t wlen = strlen(w);
            if (wlen == 0) {
                mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label, "empty weight name in layer '%s'",
                               lname);
                ok = 0;
                break;
            }
            if (wlen >= 2 && strcmp(w + wlen - 2, ":0") == 0) wlen -= 2;
            char *tname;
            if (wlen > llen && strncmp(w, lname, llen) == 0 && w[llen] == '/') {
                tname = malloc(wlen + 1);
                if (tname) {
                    memcpy(tname, w, wlen);
                    tname[wlen] = '\0';
                }
            } else {
                tname = malloc(llen + 1 + wlen + 1);
                if (tname) {
                    memcpy(tname, lname, llen);
                    tname[llen] = '/';
                    memcpy(tname + llen + 1, w, wlen);
                    tname[llen + 1 + wlen] = '\0';
                }
            }
            if (!tname) {
                mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
                ok = 0;
                break;
            }
            char *dsname = str_join(lname, "/", w);
            if (!dsname) {
                free(tname);
                mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
                ok = 0;
                break;
            }
            if (read_dataset(r, lg, w, dsname, tname) != MNV3_OK) ok = 0;
            free(dsname);
            free(tname);
        }
        strlist_free(&wn);
        close_id(lg);
        if (!ok) goto done;
    }
    rc = MNV3_OK;
done:
    strlist_free(&layers);
    return rc;
}

/* ---- Keras 3 ---- */

typedef struct vgroup {
    char *path;  /* of the "vars" group, e.g. "layers/conv2d/vars" */
    char *layer; /* name attribute, or the parent path */
    char cls[64];
    haddr_t key;
} vgroup;

typedef struct vlist {
    vgroup *v;
    size_t n, cap;
} vlist;

static void vlist_free(vlist *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].layer);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The dataset names of a vars group: all decimal indices 0..n-1 (sorted),
 * or else kept in name order with *indexed = 0. */
static int vars_members(reader *r, hid_t vg, const char *vpath, strlist *names, int *indexed) {
    if (list_links(r, vg, vpath, names) != MNV3_OK) return MNV3_FAIL;
    *indexed = 1;
    char **sorted = calloc(names->n ? names->n : 1, sizeof *sorted);
    if (!sorted) return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    for (size_t i = 0; i < names->n && *indexed; i++) {
        const char *s = names->v[i];
        char *end;
        size_t len = strlen(s);
        if (len == 0 || len > 9 || (len > 1 && s[0] == '0') || s[0] < '0' || s[0] > '9') {
            *indexed = 0;
            break;
        }
        unsigned long k = strtoul(s, &end, 10);
        if (*end || k >= names->n || sorted[k]) {
            *indexed = 0;
            break;
        }
        sorted[k] = names->v[i];
    }
    if (*indexed && names->n) memcpy(names->v, sorted, names->n * sizeof *sorted);
    free(sorted);
    return MNV3_OK;
}

static int walk_keras3(reader *r, hid_t g, const char *path, int depth, vlist *found);

/* File address of an object's header (HADDR_UNDEF if unknown). */
static haddr_t object_addr(hid_t obj) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info1_t oi;
#else
    H5O_info_t oi;
#endif
    if (H5Oget_info2(obj, &oi, H5O_INFO_BASIC) < 0) return HADDR_UNDEF;
    return oi.addr;
}

static int note_vars(reader *r, hid_t parent, const char *ppath, vlist *found) {
    char *vpath = ppath[0] ? str_join(ppath, "/", "vars") : str_join("", "", "vars");
    if (!vpath) return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    hid_t vg = open_obj(r, parent, "vars", H5I_GROUP);
    if (vg < 0) {
        free(vpath);
        return MNV3_FAIL;
    }
    int rc = MNV3_FAIL, indexed = 0;
    strlist names = {0}, nameattr = {0};
    char *layer = NULL;
    if (vars_members(r, vg, vpath, &names, &indexed) != MNV3_OK) goto done;
    if (names.n == 0) {
        rc = MNV3_OK; /* a layer without weights */
        goto done;
    }
    htri_t has_name = H5Aexists(vg, "name");
    if (has_name < 0) {
        h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot list attributes of '%s'", vpath);
        goto done;
    }
    if (has_name > 0) {
        if (read_string_attr(r, vg, vpath, "name", &nameattr) != MNV3_OK) goto done;
        if (nameattr.n != 1 || !nameattr.v[0][0]) {
            mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                           "attribute 'name' of '%s' is not one name", vpath);
            goto done;
        }
        layer = nameattr.v[0];
        nameattr.v[0] = NULL;
    } else {
        layer = str_join(ppath[0] ? ppath : "model", "", "");
        if (!layer) {
            mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
            goto done;
        }
    }
    haddr_t key = HADDR_UNDEF;
    for (size_t i = 0; i < names.n; i++) {
        hid_t d = H5Oopen(vg, names.v[i], r->lapl);
        if (d < 0) {
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot open '%s/%s'", vpath, names.v[i]);
            goto done;
        }
        haddr_t a = H5Iget_type(d) == H5I_DATASET ? object_addr(d) : HADDR_UNDEF;
        H5Eclear2(H5E_DEFAULT);
        close_id(d);
        if (a == HADDR_UNDEF) {
            key = HADDR_UNDEF;
            break;
        }
        if (key == HADDR_UNDEF || a < key) key = a;
    }
    if (found->n == found->cap) {
        size_t cap = found->cap ? found->cap * 2 : 64;
        vgroup *v = realloc(found->v, cap * sizeof *v);
        if (!v) {
            mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
            goto done;
        }
        found->v = v;
        found->cap = cap;
    }
    vgroup *e = &found->v[found->n++];
    memset(e, 0, sizeof *e);
    e->path = vpath;
    e->layer = layer;
    e->key = key;
    vpath = NULL;
    layer = NULL;
    /* Class: the last path component above "vars", minus a "_N" suffix. */
    const char *last = strrchr(ppath, '/');
    last = last ? last + 1 : ppath;
    size_t len = strlen(last);
    size_t k = len;
    while (k > 0 && last[k - 1] >= '0' && last[k - 1] <= '9') k--;
    if (k < len && k > 0 && last[k - 1] == '_') len = k - 1;
    if (len >= sizeof e->cls) len = 0;
    memcpy(e->cls, last, len);
    e->cls[len] = '\0';
    rc = MNV3_OK;
done:
    free(vpath);
    free(layer);
    strlist_free(&names);
    strlist_free(&nameattr);
    close_id(vg);
    return rc;
}

static int walk_keras3(reader *r, hid_t g, const char *path, int depth, vlist *found) {
    if (depth > MNV3_KERAS_MAX_DEPTH)
        return mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label,
                              "groups nested deeper than %d at '%s'", MNV3_KERAS_MAX_DEPTH, path);
    if (++r->nodes > MAX_NODES)
        return mnv3_fail_code(r->err, MNV3_ERR_LIMIT, r->label, "more than %d groups", MAX_NODES);
    strlist names = {0};
    int rc = MNV3_FAIL;
    if (list_links(r, g, path[0] ? path : "/", &names) != MNV3_OK) goto done;
    for (size_t i = 0; i < names.n; i++) {
        const char *name = names.v[i];
        if (depth == 0 && strcmp(name, "optimizer") == 0) continue;
        if (strcmp(name, "vars") == 0) {
            if (note_vars(r, g, path, found) != MNV3_OK) goto done;
            continue;
        }
        hid_t c = H5Oopen(g, name, r->lapl);
        if (c < 0) {
            h5fail(r->label, r->err, MNV3_ERR_FORMAT, "cannot open '%s%s%s'", path,
                   path[0] ? "/" : "", name);
            goto done;
        }
        if (H5Iget_type(c) != H5I_GROUP) {
            close_id(c);
            continue;
        }
        char *cpath = path[0] ? str_join(path, "/", name) : str_join("", "", name);
        int ok = cpath && walk_keras3(r, c, cpath, depth + 1, found) == MNV3_OK;
        if (!cpath) mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
        free(cpath);
        close_id(c);
        if (!ok) goto done;
    }
    rc = MNV3_OK;
done:
    strlist_free(&names);
    return rc;
}

static int cmp_key(const void *a, const void *b) {
    const vgroup *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return natcmp(x->path, y->path);
}

static int cmp_path(const void *a, const void *b) {
    const vgroup *x = a, *y = b;
    return natcmp(x->path, y->path);
}

static const char *index_name(const char *cls, size_t n, size_t i) {
    static const char *const kb[] = {"kernel", "bias"};
    static const char *const bn4[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    static const char *const bn2[] = {"moving_mean", "moving_variance"};
    if (strcmp(cls, "conv2d") == 0 || strcmp(cls, "depthwise_conv2d") == 0 ||
        strcmp(cls, "dense") == 0)
        return n <= 2 ? kb[i] : NULL;
    if (strcmp(cls, "batch_normalization") == 0) {
        if (n == 4) return bn4[i];
        if (n == 2) return bn2[i];
    }
    return NULL;
}

static int read_keras3(reader *r, hid_t root) {
    vlist found = {0};
    int rc = MNV3_FAIL;
    if (walk_keras3(r, root, "", 0, &found) != MNV3_OK) goto done;
    int all_keyed = 1;
    for (size_t i = 0; i < found.n; i++)
        if (found.v[i].key == HADDR_UNDEF) all_keyed = 0;
    if (found.n > 1) qsort(found.v, found.n, sizeof *found.v, all_keyed ? cmp_key : cmp_path);
    for (size_t i = 0; i < found.n; i++) {
        const vgroup *e = &found.v[i];
        hid_t vg = open_obj(r, root, e->path, H5I_GROUP);
        if (vg < 0) goto done;
        strlist names = {0};
        int indexed = 0;
        int ok = vars_members(r, vg, e->path, &names, &indexed) == MNV3_OK;
        int named = ok && indexed;
        for (size_t k = 0; ok && named && k < names.n; k++)
            if (!index_name(e->cls, names.n, k)) named = 0;
        for (size_t k = 0; ok && k < names.n; k++) {
            char tname[MAX_STRING * 2 + 64];
            char dsname[MAX_STRING * 2 + 64];
            if (named)
                snprintf(tname, sizeof tname, "%s/%s", e->layer, index_name(e->cls, names.n, k));
            else
                snprintf(tname, sizeof tname, "%s/vars/%s", e->layer, names.v[k]);
            snprintf(dsname, sizeof dsname, "%s/%s", e->path, names.v[k]);
            if (read_dataset(r, vg, names.v[k], dsname, tname) != MNV3_OK) ok = 0;
        }
        strlist_free(&names);
        close_id(vg);
        if (!ok) goto done;
    }
    rc = MNV3_OK;
done:
    vlist_free(&found);
    return rc;
}

/* ---- entry points ---- */

/* libhdf5 1.10 trusts the object sizes in global heap collections (where
 * variable-length strings live): H5HG_read copies an object's recorded size
 * into a buffer sized from elsewhere, overrunning it on a corrupt file
 * (found by fuzz_keras_h5). Before libhdf5 sees the image, every global
 * heap collection in it ("GCOL", version 1) must hold objects that fit.
 * Assumes 8-byte lengths, as every Keras/h5py file has. Returns the offset
 * of the first bad collection, or SIZE_MAX if all are sound. Also refused:
 * a free-space object of size 0, on which libhdf5's parser loops forever. */
static size_t check_global_heaps(const unsigned char *p, size_t len) {
    for (size_t o = 0; o + 16 <= len; o++) {
        const unsigned char *c = memchr(p + o, 'G', len - o);
        if (!c) break;
        o = (size_t)(c - p);
        if (o + 16 > len) break;
        if (memcmp(c, "GCOL", 4) != 0 || c[4] != 1 || c[5] || c[6] || c[7]) continue;
        uint64_t size = mnv3_load_u64le(c + 8);
        if (size < 16 || size > len - o) return o;
        size_t end = o + (size_t)size, q = o + 16;
        while (q < end) {
            if (end - q < 16) break; /* trailing free bytes, as libhdf5 allows */
            unsigned idx = mnv3_load_u16le(p + q);
            uint64_t osize = mnv3_load_u64le(p + q + 8);
            uint64_t need;
            if (idx == 0) {
                /* free space: the rest of the collection. Of size 0, libhdf5
                 * 1.10 never moves past it: an endless loop (fuzz_h5). */
                need = osize;
                if (need == 0) return o;
            } else {
                if (osize > (uint64_t)(end - q)) return o;
                need = 16 + ((osize + 7) & ~(uint64_t)7);
            }
            if (need > (uint64_t)(end - q)) return o;
            q += (size_t)need;
        }
    }
    return SIZE_MAX;
}

/* The core (memory) driver on the caller's buffer, read-only: these
 * callbacks hand libhdf5 the buffer itself instead of copies and never free
 * it (H5LTopen_file_image does the same but leaks its bookkeeping in 1.10). */
typedef struct image {
    const void *buf;
    size_t len;
} image;

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    const image *im = udata;
    return size == im->len ? (void *)im->buf : NULL;
}

static void *image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                          void *udata) {
    (void)size, (void)op, (void)udata;
    return dest == src ? dest : NULL;
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)ptr, (void)size, (void)op, (void)udata;
    return NULL;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    (void)ptr, (void)op, (void)udata;
    return 0;
}

static void *image_udata_copy(void *udata) { return udata; }

static herr_t image_udata_free(void *udata) {
    (void)udata;
    return 0;
}

static hid_t open_image(const void *buf, size_t len) {
    static image im; /* one image at a time: the reader is not reentrant */
    im.buf = buf;
    im.len = len;
    H5FD_file_image_callbacks_t cb = {image_malloc,     image_memcpy,     image_realloc,
                                      image_free,       image_udata_copy, image_udata_free,
                                      &im};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    hid_t f = -1;
    char name[64];
    /* A name never used before: libhdf5 matches core-driver files by name, and
     * one left open by a failure inside libhdf5 must not be found again by the
     * next image at the same address (a use-after-free seen by fuzz_h5). */
    static unsigned long opened;
    snprintf(name, sizeof name, "mnv3-image-%p-%lu", buf, ++opened);
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image_callbacks(fapl, &cb) >= 0 &&
        H5Pset_file_image(fapl, (void *)buf, len) >= 0)
        f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

static int read_h5_image(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                         mnv3_error *err, const char *archive_format) {
    h5_quiet();
    if (len < 8)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "too short for an HDF5 file (%zu bytes)",
                              len);
    if (len > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_over_budget(err, label, "the HDF5 file", (unsigned long long)len);
    reader r;
    memset(&r, 0, sizeof r);
    r.label = label;
    r.err = err;
    r.out = out;
    r.lapl = H5Pcreate(H5P_LINK_ACCESS);
    if (r.lapl < 0 || H5Pset_elink_cb(r.lapl, refuse_elink, NULL) < 0 ||
        H5Pset_nlinks(r.lapl, 8) < 0) {
        int rc = h5fail(label, err, MNV3_ERR_OTHER, "cannot set up HDF5");
        close_id(r.lapl);
        return rc;
    }
    size_t bad_heap = check_global_heaps(buf, len);
    if (bad_heap != SIZE_MAX) {
        close_id(r.lapl);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "corrupt HDF5 global heap at byte %zu",
                              bad_heap);
    }
    hid_t f = open_image(buf, len);
    if (f < 0) {
        int rc = h5fail(label, err, MNV3_ERR_FORMAT, "not a readable HDF5 file");
        close_id(r.lapl);
        return rc;
    }
    int rc = MNV3_FAIL;
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    if (root < 0) {
        h5fail(label, err, MNV3_ERR_FORMAT, "cannot open the root group");
        goto done;
    }
    htri_t has_mw = H5Lexists(root, "model_weights", H5P_DEFAULT);
    htri_t has_ln = H5Aexists(root, "layer_names");
    htri_t has_ln0 = H5Aexists(root, "layer_names0");
    htri_t has_layers = H5Lexists(root, "layers", H5P_DEFAULT);
    htri_t has_vars = H5Lexists(root, "vars", H5P_DEFAULT);
    if (has_mw < 0 || has_ln < 0 || has_ln0 < 0 || has_layers < 0 || has_vars < 0) {
        h5fail(label, err, MNV3_ERR_FORMAT, "cannot read the root group");
        goto done;
    }
    if (has_mw > 0) {
        hid_t g = open_obj(&r, root, "model_weights", H5I_GROUP);
        if (g < 0) goto done;
        snprintf(out->format, sizeof out->format, "keras-h5");
        rc = read_keras2(&r, g, "model_weights");
        close_id(g);
    } else if (has_ln > 0 || has_ln0 > 0) {
        snprintf(out->format, sizeof out->format, "keras-h5");
        rc = read_keras2(&r, root, "/");
    } else if (has_layers > 0 || has_vars > 0) {
        snprintf(out->format, sizeof out->format, "%s",
                 archive_format ? archive_format : "keras-weights-h5");
        rc = read_keras3(&r, root);
    } else {
        mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                       "HDF5 file holds no Keras weights (no model_weights, layer_names "
                       "or layers)");
    }
    if (rc == MNV3_OK) read_model_config(&r, root);
    if (rc == MNV3_OK) rc = mnv3_tensors_check_unique(out, label, err);
done:
    close_id(root);
    if (H5Fclose(f) < 0 && rc == MNV3_OK)
        rc = h5fail(label, err, MNV3_ERR_IO, "cannot close the file");
    close_id(r.lapl);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

/* config.json, when the archive has one: its BatchNorm facts (unreadable,
 * a problem for the model check, not a failure). */
static void read_archive_config(zip_t *za, const char *label, mnv3_config_facts *facts) {
    zip_int64_t idx = zip_name_locate(za, "config.json", 0);
    if (idx < 0) return;
    unsigned char *json = NULL;
    size_t len = 0;
    mnv3_error ignored;
    if (mnv3_zip_read_member(za, (zip_uint64_t)idx, "config.json", label, &json, &len,
                             &ignored) != MNV3_OK)
        facts->present = -1;
    else
        mnv3_config_scan_json((const char *)json, len, facts);
    free(json);
}

static int read_archive(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                        mnv3_error *err) {
    zip_t *za = NULL;
    if (mnv3_zip_open_buffer(buf, len, label, &za, err) != MNV3_OK) return MNV3_FAIL;
    int rc = MNV3_FAIL;
    unsigned char *member = NULL;
    size_t mlen = 0;
    zip_int64_t idx = zip_name_locate(za, ARCHIVE_MEMBER, 0);
    if (idx < 0) {
        mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                       "a zip archive without %s: not a .keras file with weights (save the "
                       "model with model.save(\"x.keras\") or its weights with "
                       "model.save_weights(\"x.weights.h5\"))",
                       ARCHIVE_MEMBER);
        goto done;
    }
    /* Refused on its declared size before a byte is inflated, and cut off
     * where it inflates past what it declares (mnv3_zip_read_member). */
    if (mnv3_zip_read_member(za, (zip_uint64_t)idx, ARCHIVE_MEMBER, label, &member, &mlen, err) !=
        MNV3_OK)
        goto done;
    char inner[512];
    snprintf(inner, sizeof inner, "%s: %s", label, ARCHIVE_MEMBER);
    rc = read_h5_image(member, mlen, inner, out, err, "keras");
    if (rc == MNV3_OK) read_archive_config(za, label, &out->config);
done:
    free(member);
    zip_discard(za);
    return rc;
}

int mnv3_read_keras_h5_buffer(const void *buf, size_t len, const char *label,
                              mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    int rc;
    if (len >= 4 && memcmp(buf, "PK\3\4", 4) == 0)
        rc = read_archive(buf, len, label, out, err);
    else
        rc = read_h5_image(buf, len, label, out, err, NULL);
    if (rc != MNV3_OK) {
        mnv3_tensors_free(out);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ---- the sandbox ------------------------------------------------------------- */

static atomic_int sandbox_on, sandbox_fault;

void mnv3_set_hdf5_sandbox(int on) { atomic_store(&sandbox_on, on != 0); }
int mnv3_hdf5_sandbox(void) { return atomic_load(&sandbox_on); }
void mnv3_set_hdf5_sandbox_fault(int sig) { atomic_store(&sandbox_fault, sig); }

#if defined(__unix__) || defined(__APPLE__)
/* libhdf5 1.10 trusts some on-disk indices (fuzzing found a global-heap object index in a
 * variable-length string attribute that crashes it) and the API offers no way to check them
 * first. So, when the caller asks for it, a file is parsed in a child process: a crash there
 * becomes a one-line error here. The child's reply on a pipe, in native byte order (it is
 * this same program):
 *   int32 code: MNV3_ERR_NONE, or the error's code followed by its message to the end;
 *   char format[32], mnv3_config_facts, uint64 count, then per tensor: uint32 name length, the name,
 *   int32 dtype, char source_dtype[16], int32 ndim, int64 shape[ndim], then the data. */
#define SANDBOX_MAX_REPLY (MNV3_FORMATS_MAX_BYTES + ((size_t)64 << 20))
/* The reader's time backstop: 4 s, plus 1 s per 16 MiB of file (a genuine
 * MobileNetV3 file of 4 to 20 MB parses in well under a second). */
static unsigned sandbox_seconds(size_t len) { return 4u + (unsigned)(len >> 24); }

/* Says how the reader process ended by a signal: a crash of libhdf5 (a
 * fault), the time backstop, or a signal from outside (killed, broken pipe). */
static int sandbox_signalled(mnv3_error *err, const char *path, int sig, unsigned seconds) {
    switch (sig) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGABRT: case SIGTRAP:
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, path,
                              "libhdf5 crashed reading this file (signal %d, %s): it is corrupt "
                              "or hostile", sig,
                              sig == SIGSEGV ? "segmentation fault" :
                              sig == SIGBUS ? "bus error" :
                              sig == SIGILL ? "illegal instruction" :
                              sig == SIGFPE ? "arithmetic fault" :
                              sig == SIGABRT ? "abort" : "trap");
    case SIGALRM:
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, path,
                              "the HDF5 reader process took more than %u s and was stopped: "
                              "libhdf5 is stuck on this file, it is corrupt or hostile",
                              seconds);
    case SIGPIPE:
        return mnv3_fail_code(err, MNV3_ERR_SYSTEM, path,
                              "the HDF5 reader process was killed by signal %d (SIGPIPE, its "
                              "reply was cut off): not a fault of the file, try again",
                              sig);
    default:
        return mnv3_fail_code(err, MNV3_ERR_SYSTEM, path,
                              "the HDF5 reader process was killed by signal %d%s: not a fault "
                              "of the file, try again",
                              sig, sig == SIGKILL ? " (SIGKILL: out of memory, or killed)" : "");
    }
}

static int write_all(int fd, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k, n -= (size_t)k;
    }
    return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define MNV3_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MNV3_UNDER_ASAN 1
#endif
#endif

/* Caps the child's address space at what it has now plus the file budget and
 * 256 MiB: libhdf5 trusts lengths in a file (a variable-length string of 4 GB,
 * found by fuzz_h5) and would fill that much memory; now its malloc fails.
 * Not under AddressSanitizer, whose shadow memory reserves terabytes. */
static void sandbox_limit_memory(void) {
#if !defined(MNV3_UNDER_ASAN)
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f) return;
    int got = fscanf(f, "%lu", &pages);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (got != 1 || page <= 0) return;
    unsigned long long vm = (unsigned long long)pages * (unsigned long long)page;
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max =
        (rlim_t)(vm + (unsigned long long)MNV3_FORMATS_MAX_BYTES + (256ull << 20));
    setrlimit(RLIMIT_AS, &rl);
#endif
}

static void sandbox_child(int fd, const char *path, const unsigned char *buf, size_t len) {
    mnv3_tensors ts;
    mnv3_error e = {{0}, MNV3_ERR_NONE};
    int32_t code = mnv3_read_keras_h5_buffer(buf, len, path, &ts, &e) == MNV3_OK
                       ? MNV3_ERR_NONE
                       : (e.code != MNV3_ERR_NONE ? e.code : MNV3_ERR_OTHER);
    if (write_all(fd, &code, sizeof code) != 0) _exit(1);
    if (code != MNV3_ERR_NONE) _exit(write_all(fd, e.message, strlen(e.message)) == 0 ? 0 : 1);
    uint64_t count = ts.count;
    int ok = write_all(fd, ts.format, sizeof ts.format) == 0 &&
             write_all(fd, &ts.config, sizeof ts.config) == 0 &&
             write_all(fd, &count, sizeof count) == 0;
    for (size_t i = 0; ok && i < ts.count; i++) {
        const mnv3_tensor *t = &ts.items[i];
        uint32_t name_len = (uint32_t)strlen(t->name);
        int32_t dtype = (int32_t)t->dtype, ndim = t->ndim;
        size_t bytes = (size_t)mnv3_tensor_numel(t) * (t->dtype == MNV3_F32 ? 4 : 8);
        ok = write_all(fd, &name_len, sizeof name_len) == 0 &&
             write_all(fd, t->name, name_len) == 0 && write_all(fd, &dtype, sizeof dtype) == 0 &&
             write_all(fd, t->source_dtype, sizeof t->source_dtype) == 0 &&
             write_all(fd, &ndim, sizeof ndim) == 0 &&
             write_all(fd, t->shape, (size_t)ndim * sizeof t->shape[0]) == 0 &&
             write_all(fd, t->data, bytes) == 0;
    }
    _exit(ok ? 0 : 1);
}

/* The reply is read from the pipe as it is parsed, each tensor's data
 * straight into its own buffer: the variables cost their size once here, not
 * twice (a whole reply, then the tensors). */
typedef struct reply_cursor {
    int fd;
    size_t taken;
    int too_long; /* past SANDBOX_MAX_REPLY */
} reply_cursor;

/* Reads up to n bytes, across short reads; -1 on an error before any. */
static ssize_t read_upto(int fd, void *dst, size_t n) {
    unsigned char *p = dst;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && got == 0) return -1;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int take(reply_cursor *c, void *dst, size_t n) {
    if (n > SANDBOX_MAX_REPLY - c->taken) {
        c->too_long = 1;
        return 0;
    }
    if (read_upto(c->fd, dst, n) != (ssize_t)n) return 0;
    c->taken += n;
    return 1;
}

static int at_end(reply_cursor *c) {
    unsigned char extra;
    return read_upto(c->fd, &extra, 1) == 0;
}

/* Rebuilds the tensors from a successful reply; 0 if it is malformed. */
static int parse_reply(reply_cursor *c, const char *path, mnv3_tensors *out, mnv3_error *err) {
    uint64_t count;
    if (!take(c, out->format, sizeof out->format) || !take(c, &out->config, sizeof out->config) ||
        !take(c, &count, sizeof count))
        return 0;
    out->format[sizeof out->format - 1] = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t name_len;
        int32_t dtype, ndim;
        char source_dtype[16], name[MAX_STRING * 2 + 64]; /* the size tensor names are built in */
        int64_t shape[MNV3_MAX_DIMS];
        if (!take(c, &name_len, sizeof name_len) || name_len >= sizeof name ||
            !take(c, name, name_len) || !take(c, &dtype, sizeof dtype) ||
            !take(c, source_dtype, sizeof source_dtype) || !take(c, &ndim, sizeof ndim) ||
            (dtype != MNV3_F32 && dtype != MNV3_I64) || ndim < 0 || ndim > MNV3_MAX_DIMS ||
            !take(c, shape, (size_t)ndim * sizeof shape[0]))
            return 0;
        name[name_len] = 0;
        source_dtype[sizeof source_dtype - 1] = 0;
        size_t bytes = dtype == MNV3_F32 ? 4 : 8;
        for (int k = 0; k < ndim; k++)
            if (shape[k] < 0 || !mnv3_mul_size(bytes, (size_t)shape[k], &bytes)) return 0;
        if (bytes > SANDBOX_MAX_REPLY - c->taken) {
            c->too_long = 1;
            return 0;
        }
        void *data = malloc(bytes ? bytes : 1);
        if (!data) {
            mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
            return -1;
        }
        if (!take(c, data, bytes)) {
            free(data);
            return 0;
        }
        if (mnv3_tensors_add(out, name, (mnv3_dtype)dtype, ndim, shape, data, err) != MNV3_OK)
            return -1;
        snprintf(out->items[out->count - 1].source_dtype, sizeof source_dtype, "%s", source_dtype);
    }
    return at_end(c);
}

static int read_isolated(const char *path, const unsigned char *buf, size_t len,
                         mnv3_tensors *out, mnv3_error *err) {
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return mnv3_fail_code(err, MNV3_ERR_SYSTEM, path, "cannot create a pipe");
    fflush(NULL); /* so the child cannot write out the caller's buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]), close(pipefd[1]);
        return mnv3_fail_code(err, MNV3_ERR_SYSTEM, path, "cannot fork");
    }
    if (pid == 0) {
        close(pipefd[0]);
        int devnull = open("/dev/null", O_WRONLY); /* a crash report is not our one line */
        if (devnull >= 0) dup2(devnull, 2);
#if defined(__linux__)
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the caller */
        if (getppid() == 1) _exit(1);
#endif
        /* the caller's handlers are not the child's: a signal ends it plainly */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        alarm(sandbox_seconds(len)); /* a backstop: libhdf5 can loop on a crafted file */
        sandbox_limit_memory();
        if (atomic_load(&sandbox_fault)) raise(atomic_load(&sandbox_fault));
        sandbox_child(pipefd[1], path, buf, len);
    }
    close(pipefd[1]);
    reply_cursor c = {pipefd[0], 0, 0};
    int32_t code = MNV3_ERR_OTHER;
    int got_code = take(&c, &code, sizeof code), parsed = 0;
    char message[sizeof err->message];
    size_t message_len = 0;
    if (got_code && code == MNV3_ERR_NONE) {
        parsed = parse_reply(&c, path, out, err);
    } else if (got_code) { /* the child's message, to the end of the pipe */
        ssize_t r = read_upto(pipefd[0], message, sizeof message - 1);
        message_len = r > 0 ? (size_t)r : 0;
    }
    close(pipefd[0]); /* a child still writing now gets SIGPIPE */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int rc = MNV3_FAIL;
    if (c.too_long)
        mnv3_fail_code(err, MNV3_ERR_LIMIT, path, "the file's variables exceed %zu bytes",
                       (size_t)SANDBOX_MAX_REPLY);
    else if (WIFSIGNALED(status))
        sandbox_signalled(err, path, WTERMSIG(status), sandbox_seconds(len));
    else if (!got_code) /* died while parsing, e.g. a sanitizer's report */
        mnv3_fail_code(err, MNV3_ERR_FORMAT, path,
                       "libhdf5 stopped reading this file (exit status %d): it is corrupt or "
                       "hostile",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        mnv3_fail_code(err, MNV3_ERR_OTHER, path, "the HDF5 sandbox's reply is incomplete");
    else if (code != MNV3_ERR_NONE) {
        if (err) { /* the child's message already names the file */
            memcpy(err->message, message, message_len);
            err->message[message_len] = 0;
            err->code = code > MNV3_ERR_NONE && code < MNV3_ERR_COUNT ? code : MNV3_ERR_OTHER;
        }
    } else if (parsed > 0) {
        rc = MNV3_OK;
    } else if (parsed == 0) {
        mnv3_fail_code(err, MNV3_ERR_OTHER, path, "malformed reply from the HDF5 sandbox");
    }
    if (rc != MNV3_OK) {
        mnv3_tensors_free(out);
        memset(out, 0, sizeof *out);
    }
    return rc;
}
#endif

int mnv3_read_keras_h5(const char *path, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, err) != MNV3_OK) return MNV3_FAIL;
    int rc;
#if defined(__unix__) || defined(__APPLE__)
    if (mnv3_hdf5_sandbox())
        rc = read_isolated(path, buf, len, out, err);
    else
#endif
        rc = mnv3_read_keras_h5_buffer(buf, len, path, out, err);
    free(buf);
    return rc;
}

int mnv3_keras_h5_sniff(const void *head, size_t n) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    const unsigned char *p = head;
    if (n >= 8 && memcmp(p, sig, 8) == 0) return 1;
    if (n >= 520 && memcmp(p + 512, sig, 8) == 0) return 1;
    return 0;
}

int mnv3_keras_archive_sniff(const char *path) {
    int errcode = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &errcode);
    if (!za) return 0;
    int found = zip_name_locate(za, ARCHIVE_MEMBER, 0) >= 0;
    zip_discard(za);
    return found;
}

int mnv3_keras_archive_kind(const char *path) {
    int errcode = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &errcode);
    if (!za) return 0;
    int kind = 0;
    if (zip_name_locate(za, ARCHIVE_MEMBER, 0) >= 0) kind = 2;
    else if (zip_name_locate(za, "config.json", 0) >= 0 ||
             zip_name_locate(za, "metadata.json", 0) >= 0)
        kind = 1;
    /* Named *.keras but with neither: a .keras without weights, unless it is
     * a torch.save archive (a data.pkl member) under the wrong name. */
    size_t n = strlen(path);
    if (kind == 0 && n >= 6 && strcmp(path + n - 6, ".keras") == 0) {
        kind = 1;
        zip_int64_t count = zip_get_num_entries(za, 0);
        for (zip_int64_t i = 0; i < count && i < 100000; i++) {
            const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
            size_t len = name ? strlen(name) : 0;
            if (len >= 8 && strcmp(name + len - 8, "data.pkl") == 0) kind = 0;
        }
    }
    zip_discard(za);
    return kind;
}

/* ---- writer ------------------------------------------------------------------ */

typedef struct wlayer {
    size_t first, count; /* tensors [first, first + count) */
    const char *cls;
    size_t order[4]; /* tensor index per Keras variable index */
    size_t nvars;
} wlayer;

static size_t layer_len(const char *name) {
    const char *slash = strrchr(name, '/');
    return slash ? (size_t)(slash - name) : 0;
}

static int same_layer(const char *a, const char *b) {
    size_t la = layer_len(a), lb = layer_len(b);
    return la == lb && strncmp(a, b, la) == 0;
}

/* Works out the Keras class and variable order of one layer's tensors. */
static int classify(const mnv3_tensors *ts, wlayer *L, const char *path, mnv3_error *err) {
    static const char *const bn[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    const char *lname = ts->items[L->first].name;
    int ll = (int)layer_len(lname);
    size_t at[6];
    for (int k = 0; k < 6; k++) at[k] = SIZE_MAX;
    /* 0..3 BatchNormalization, 4 kernel / depthwise_kernel, 5 bias */
    int depthwise_name = 0;
    for (size_t i = L->first; i < L->first + L->count; i++) {
        const char *var = ts->items[i].name + layer_len(ts->items[i].name) + 1;
        int slot = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(var, bn[k]) == 0) slot = k;
        if (strcmp(var, "kernel") == 0) slot = 4;
        if (strcmp(var, "depthwise_kernel") == 0) {
            slot = 4;
            depthwise_name = 1;
        }
        if (strcmp(var, "bias") == 0) slot = 5;
        if (slot < 0)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path,
                                  "tensor '%s': variable '%s' is not one of a Conv2D, "
                                  "DepthwiseConv2D, BatchNormalization or Dense layer",
                                  ts->items[i].name, var);
        if (at[slot] != SIZE_MAX)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' occurs twice",
                                  ts->items[i].name);
        at[slot] = i;
    }
    int is_bn = at[0] != SIZE_MAX || at[1] != SIZE_MAX || at[2] != SIZE_MAX || at[3] != SIZE_MAX;
    if (is_bn) {
        if (at[4] != SIZE_MAX || at[5] != SIZE_MAX || at[2] == SIZE_MAX || at[3] == SIZE_MAX)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path,
                                  "layer '%.*s': BatchNormalization needs moving_mean and "
                                  "moving_variance and no kernel or bias",
                                  ll, lname);
        L->cls = "batch_normalization";
        for (int k = 0; k < 4; k++)
            if (at[k] != SIZE_MAX) L->order[L->nvars++] = at[k];
        for (size_t k = 0; k < L->nvars; k++)
            if (ts->items[L->order[k]].ndim != 1)
                return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' must have rank 1",
                                      ts->items[L->order[k]].name);
        return MNV3_OK;
    }
    if (at[4] == SIZE_MAX)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "layer '%.*s' has a bias but no kernel",
                              ll, lname);
    const mnv3_tensor *kt = &ts->items[at[4]];
    if (kt->ndim == 4) {
        /* Keras 3 calls both kernels "kernel": (kh, kw, C, 1) with C > 1 is
         * taken as depthwise, as is (kh, kw, 1, 1) in a layer named
         * "*depthwise*". */
        const char *hint = strstr(lname, "depthwise");
        int named_dw = hint && (size_t)(hint - lname) < (size_t)ll;
        int dw = depthwise_name ||
                 (kt->shape[3] == 1 && (kt->shape[2] > 1 || named_dw));
        L->cls = dw ? "depthwise_conv2d" : "conv2d";
    } else if (kt->ndim == 2) {
        L->cls = "dense";
    } else {
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path,
                              "tensor '%s': kernel of rank %d (want 4 or 2)", kt->name, kt->ndim);
    }
    L->order[L->nvars++] = at[4];
    if (at[5] != SIZE_MAX) {
        if (ts->items[at[5]].ndim != 1)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' must have rank 1",
                                  ts->items[at[5]].name);
        L->order[L->nvars++] = at[5];
    }
    return MNV3_OK;
}

static int write_name_attr(hid_t obj, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (t < 0 || s < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)
        goto done;
    a = H5Acreate2(obj, "name", t, s, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) goto done;
    if (H5Awrite(a, t, &value) < 0) goto done;
    rc = 0;
done:
    close_id(a);
    close_id(s);
    close_id(t);
    return rc;
}

static int write_dataset(hid_t g, const char *name, const mnv3_tensor *t) {
    hsize_t dims[MNV3_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
    hid_t s = t->ndim ? H5Screate_simple(t->ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    if (s < 0) return -1;
    hid_t d = H5Dcreate2(g, name, H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = -1;
    if (d >= 0 && (mnv3_tensor_numel(t) == 0 ||
                   H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0))
        rc = 0;
    close_id(d);
    close_id(s);
    return rc;
}

int mnv3_write_keras_weights_h5(const char *path, const mnv3_tensors *ts, mnv3_error *err) {
    h5_quiet();
    if (!ts || ts->count == 0)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "no tensors to write");
    /* Check names, types and shapes, and group the tensors by layer. */
    wlayer *layers = calloc(ts->count, sizeof *layers);
    if (!layers) return mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
    size_t nl = 0;
    int rc = MNV3_FAIL;
    hid_t f = -1, lg = -1;
    for (size_t i = 0; i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        size_t ll = layer_len(t->name);
        if (ll == 0 || !t->name[ll + 1] || ll > MAX_STRING) {
            mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path,
                           "tensor '%s' is not named <layer>/<variable>", t->name);
            goto done;
        }
        if (t->dtype != MNV3_F32 || t->ndim < 0 || t->ndim > MNV3_MAX_DIMS ||
            (mnv3_tensor_numel(t) > 0 && !t->data)) {
            mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' is not a float32 tensor",
                           t->name);
            goto done;
        }
        for (int k = 0; k < t->ndim; k++)
            if (t->shape[k] < 0) {
                mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' has a negative dimension",
                               t->name);
                goto done;
            }
        if (nl > 0 && same_layer(ts->items[layers[nl - 1].first].name, t->name)) {
            layers[nl - 1].count++;
            continue;
        }
        for (size_t k = 0; k < nl; k++)
            if (same_layer(ts->items[layers[k].first].name, t->name)) {
                mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path,
                               "tensors of layer '%.*s' are not together (at '%s')", (int)ll,
                               t->name, t->name);
                goto done;
            }
        layers[nl].first = i;
        layers[nl].count = 1;
        nl++;
    }
    for (size_t k = 0; k < nl; k++)
        if (classify(ts, &layers[k], path, err) != MNV3_OK) goto done;

    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        h5fail(path, err, MNV3_ERR_IO, "cannot create the file");
        goto done;
    }
    lg = H5Gcreate2(f, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (lg < 0) goto h5err;
    for (size_t k = 0; k < nl; k++) {
        size_t seen = 0;
        for (size_t j = 0; j < k; j++)
            if (strcmp(layers[j].cls, layers[k].cls) == 0) seen++;
        char gname[96];
        if (seen)
            snprintf(gname, sizeof gname, "%s_%zu", layers[k].cls, seen);
        else
            snprintf(gname, sizeof gname, "%s", layers[k].cls);
        const char *tname = ts->items[layers[k].first].name;
        size_t ll = layer_len(tname);
        char lname[MAX_STRING + 1];
        memcpy(lname, tname, ll);
        lname[ll] = '\0';
        hid_t g = H5Gcreate2(lg, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t vg = g < 0 ? -1 : H5Gcreate2(g, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int ok = vg >= 0 && write_name_attr(vg, lname) == 0;
        for (size_t v = 0; ok && v < layers[k].nvars; v++) {
            char idx[24];
            snprintf(idx, sizeof idx, "%zu", v);
            if (write_dataset(vg, idx, &ts->items[layers[k].order[v]]) != 0) ok = 0;
        }
        close_id(vg);
        close_id(g);
        if (!ok) {
            h5fail(path, err, MNV3_ERR_IO, "cannot write layer '%s'", lname);
            goto done;
        }
    }
    close_id(lg);
    lg = H5Gcreate2(f, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (lg < 0 || write_name_attr(lg, "model") != 0) goto h5err;
    close_id(lg);
    lg = -1;
    hid_t fclose_id = f;
    f = -1;
    if (H5Fclose(fclose_id) < 0) {
        h5fail(path, err, MNV3_ERR_IO, "cannot finish the file");
        remove(path);
        goto done;
    }
    rc = MNV3_OK;
    goto done;
h5err:
    h5fail(path, err, MNV3_ERR_IO, "cannot write the file");
done:
    close_id(lg);
    if (f >= 0) {
        close_id(f);
        remove(path);
    }
    free(layers);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}
