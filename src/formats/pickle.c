/* A restricted unpickler for torch.save state_dicts.
 *
 * It accepts what a weights-only torch.load accepts for a state_dict and
 * nothing else: the only callables are OrderedDict, the tensor/parameter
 * rebuild functions and layout lookups; the only persistent ids are typed
 * storages. Any other global is refused by name before anything happens.
 *
 * Safety: every read is bounds-checked, lengths are checked against the
 * remaining bytes, memo indices and stack/mark depths are capped, and the
 * machine never recurses, so hostile input can only produce an error.
 * Objects live in an arena (a list of every value made) freed in one go,
 * which keeps memo sharing simple and makes leaks impossible. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"

#define MAX_STACK ((size_t)1 << 20)
#define MAX_MARKS ((size_t)1024)
#define MAX_MEMO ((uint64_t)1 << 22)
#define MAX_VALUES ((size_t)1 << 21)
#define MAX_ITEMS ((size_t)1 << 24) /* container slots in total */
#define MAX_NAME 256                 /* module/qualname of a GLOBAL */

typedef enum value_kind {
    V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE,
    V_TENSOR, V_LAYOUT
} value_kind;

typedef enum global_kind {
    G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_PARAMETER, G_PARAMETER, G_STORAGE,
    G_GET_LAYOUT, G_STRIDED
} global_kind;

typedef struct tensor_info {
    const char *storage_key;
    mnv3_elem elem;
    int64_t storage_numel, offset;
    int ndim;
    int64_t shape[MNV3_MAX_DIMS], stride[MNV3_MAX_DIMS];
} tensor_info;

typedef struct value {
    value_kind kind;
    struct value *next_made; /* arena chain */
    int64_t i;               /* V_INT, V_BOOL, V_STORAGE numel */
    char *s;                 /* V_STR text, V_STORAGE key (borrowed from a V_STR) */
    struct value **items;    /* V_TUPLE/V_LIST items; V_DICT key,value pairs */
    size_t count, cap;
    global_kind global;      /* V_GLOBAL */
    mnv3_elem elem;          /* V_GLOBAL G_STORAGE, V_STORAGE */
    int owns_s;
    tensor_info *tensor;     /* V_TENSOR */
} value;

typedef struct machine {
    const unsigned char *pkl;
    size_t len, pos, op_pos;
    const char *label;
    mnv3_error *err;
    value *made;
    size_t n_made, n_items;
    value **stack;
    size_t depth, stack_cap;
    size_t marks[MAX_MARKS];
    size_t n_marks;
    value **memo;
    size_t memo_cap, memo_len;
} machine;

static int fail(machine *m, const char *fmt, const char *detail) {
    char what[300];
    snprintf(what, sizeof what, fmt, detail);
    return mnv3_fail_code(m->err, MNV3_ERR_FORMAT, m->label, "pickle: %s (at byte %zu)", what,
                          m->op_pos);
}

static value *make(machine *m, value_kind kind) {
    if (m->n_made >= MAX_VALUES) {
        fail(m, "more than %s objects", "2097152");
        return NULL;
    }
    value *v = calloc(1, sizeof *v);
    if (!v) {
        fail(m, "out of memory%s", "");
        return NULL;
    }
    v->kind = kind;
    v->next_made = m->made;
    m->made = v;
    m->n_made++;
    return v;
}

static void free_all(machine *m) {
    for (value *v = m->made, *next; v; v = next) {
        next = v->next_made;
        if (v->owns_s) free(v->s);
        free(v->items);
        free(v->tensor);
        free(v);
    }
    m->made = NULL;
    free(m->stack);
    free(m->memo);
}

static int add_item(machine *m, value *container, value *item) {
    if (m->n_items >= MAX_ITEMS) return fail(m, "containers hold too many items%s", "");
    if (container->count == container->cap) {
        size_t cap = container->cap ? container->cap * 2 : 8;
        value **items = realloc(container->items, cap * sizeof *items);
        if (!items) return fail(m, "out of memory%s", "");
        container->items = items;
        container->cap = cap;
    }
    container->items[container->count++] = item;
    m->n_items++;
    return MNV3_OK;
}

static int push(machine *m, value *v) {
    if (!v) return MNV3_FAIL;
    if (m->depth == m->stack_cap) {
        if (m->stack_cap >= MAX_STACK) return fail(m, "stack deeper than %s", "1048576");
        size_t cap = m->stack_cap ? m->stack_cap * 2 : 64;
        value **s = realloc(m->stack, cap * sizeof *s);
        if (!s) return fail(m, "out of memory%s", "");
        m->stack = s;
        m->stack_cap = cap;
    }
    m->stack[m->depth++] = v;
    return MNV3_OK;
}

/* Items above the innermost mark belong to it; nothing below may be popped. */
static size_t floor_of_stack(const machine *m) {
    return m->n_marks ? m->marks[m->n_marks - 1] : 0;
}

static value *pop(machine *m) {
    if (m->depth <= floor_of_stack(m)) {
        fail(m, "stack underflow%s", "");
        return NULL;
    }
    return m->stack[--m->depth];
}

static value *top(machine *m) {
    if (m->depth <= floor_of_stack(m)) {
        fail(m, "stack underflow%s", "");
        return NULL;
    }
    return m->stack[m->depth - 1];
}

static int pop_mark(machine *m, size_t *mark) {
    if (m->n_marks == 0) return fail(m, "no MARK on the stack%s", "");
    *mark = m->marks[--m->n_marks];
    return MNV3_OK;
}

static int need(machine *m, size_t n) {
    if (n > m->len - m->pos) return fail(m, "truncated: opcode needs more bytes%s", "");
    return MNV3_OK;
}

static uint64_t read_uint(machine *m, size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) v |= (uint64_t)m->pkl[m->pos + k] << (8 * k);
    m->pos += n;
    return v;
}

static int push_string(machine *m, size_t n) {
    if (need(m, n) != MNV3_OK) return MNV3_FAIL;
    if (memchr(m->pkl + m->pos, '\0', n)) return fail(m, "string contains a NUL byte%s", "");
    value *v = make(m, V_STR);
    if (!v) return MNV3_FAIL;
    v->s = malloc(n + 1);
    if (!v->s) return fail(m, "out of memory%s", "");
    v->owns_s = 1;
    memcpy(v->s, m->pkl + m->pos, n);
    v->s[n] = '\0';
    m->pos += n;
    return push(m, v);
}

static int push_int(machine *m, int64_t i) {
    value *v = make(m, V_INT);
    if (!v) return MNV3_FAIL;
    v->i = i;
    return push(m, v);
}

static int memo_put(machine *m, uint64_t index) {
    value *v = top(m);
    if (!v) return MNV3_FAIL;
    if (index >= MAX_MEMO) return fail(m, "memo index too large%s", "");
    if (index >= m->memo_cap) {
        size_t cap = m->memo_cap ? m->memo_cap : 64;
        while (cap <= index) cap *= 2;
        value **memo = realloc(m->memo, cap * sizeof *memo);
        if (!memo) return fail(m, "out of memory%s", "");
        memset(memo + m->memo_cap, 0, (cap - m->memo_cap) * sizeof *memo);
        m->memo = memo;
        m->memo_cap = cap;
    }
    if (!m->memo[index]) m->memo_len++;
    m->memo[index] = v;
    return MNV3_OK;
}

static int memo_get(machine *m, uint64_t index) {
    if (index >= m->memo_cap || !m->memo[index]) {
        char idx[32];
        snprintf(idx, sizeof idx, "%llu", (unsigned long long)index);
        return fail(m, "memo index %s was never set", idx);
    }
    return push(m, m->memo[index]);
}

static const struct {
    const char *name;
    global_kind kind;
    mnv3_elem elem;
} allowed_globals[] = {
    {"collections.OrderedDict", G_ORDERED_DICT, MNV3_ELEM_F32},
    {"torch._utils._rebuild_tensor_v2", G_REBUILD_TENSOR_V2, MNV3_ELEM_F32},
    {"torch._utils._rebuild_parameter", G_REBUILD_PARAMETER, MNV3_ELEM_F32},
    {"torch.nn.parameter.Parameter", G_PARAMETER, MNV3_ELEM_F32},
    {"torch.serialization._get_layout", G_GET_LAYOUT, MNV3_ELEM_F32},
    {"torch.strided", G_STRIDED, MNV3_ELEM_F32},
    {"torch.FloatStorage", G_STORAGE, MNV3_ELEM_F32},
    {"torch.DoubleStorage", G_STORAGE, MNV3_ELEM_F64},
    {"torch.HalfStorage", G_STORAGE, MNV3_ELEM_F16},
    {"torch.BFloat16Storage", G_STORAGE, MNV3_ELEM_BF16},
    {"torch.LongStorage", G_STORAGE, MNV3_ELEM_I64},
    {"torch.IntStorage", G_STORAGE, MNV3_ELEM_I32},
};

static int push_global(machine *m, const char *module, size_t module_len, const char *name,
                       size_t name_len) {
    char full[2 * MAX_NAME + 2];
    if (module_len > MAX_NAME || name_len > MAX_NAME) return fail(m, "global name too long%s", "");
    memcpy(full, module, module_len);
    full[module_len] = '.';
    memcpy(full + module_len + 1, name, name_len);
    full[module_len + 1 + name_len] = '\0';
    for (size_t k = 0; k < sizeof allowed_globals / sizeof allowed_globals[0]; k++) {
        if (strlen(full) == module_len + 1 + name_len &&
            strcmp(full, allowed_globals[k].name) == 0) {
            value *v = make(m, V_GLOBAL);
            if (!v) return MNV3_FAIL;
            v->global = allowed_globals[k].kind;
            v->elem = allowed_globals[k].elem;
            return push(m, v);
        }
    }
    /* Show the name printable so the one-line message stays readable. */
    for (char *p = full; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
    return mnv3_fail_code(m->err, MNV3_ERR_UNSUPPORTED, m->label,
                          "pickle names disallowed global '%s' (only torch tensor rebuilds and "
                          "OrderedDict are allowed)",
                          full);
}

/* GLOBAL: "module\nqualname\n". */
static int op_global(machine *m) {
    const char *start[2];
    size_t len[2];
    for (int part = 0; part < 2; part++) {
        const unsigned char *nl = memchr(m->pkl + m->pos, '\n', m->len - m->pos);
        if (!nl) return fail(m, "truncated GLOBAL%s", "");
        start[part] = (const char *)m->pkl + m->pos;
        len[part] = (size_t)(nl - (m->pkl + m->pos));
        m->pos += len[part] + 1;
    }
    return push_global(m, start[0], len[0], start[1], len[1]);
}

static int op_stack_global(machine *m) {
    value *name = pop(m);
    value *module = name ? pop(m) : NULL;
    if (!module) return MNV3_FAIL;
    if (name->kind != V_STR || module->kind != V_STR)
        return fail(m, "STACK_GLOBAL needs two strings%s", "");
    return push_global(m, module->s, strlen(module->s), name->s, strlen(name->s));
}

static int int_arg(const value *v, int64_t *out) {
    if (v->kind != V_INT && v->kind != V_BOOL) return 0;
    *out = v->i;
    return 1;
}

static value *rebuild_tensor(machine *m, value *args) {
    if (args->count != 6 && args->count != 7) {
        fail(m, "_rebuild_tensor_v2 takes 6 or 7 arguments%s", "");
        return NULL;
    }
    value *storage = args->items[0], *size = args->items[2], *stride = args->items[3];
    int64_t offset;
    if (storage->kind != V_STORAGE || !int_arg(args->items[1], &offset) || offset < 0 ||
        size->kind != V_TUPLE || stride->kind != V_TUPLE) {
        fail(m, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)%s", "");
        return NULL;
    }
    if (size->count > MNV3_MAX_DIMS || size->count != stride->count) {
        fail(m, "tensor size and stride disagree or exceed 8 dimensions%s", "");
        return NULL;
    }
    tensor_info *t = calloc(1, sizeof *t);
    value *v = t ? make(m, V_TENSOR) : NULL;
    if (!v) {
        if (!t) fail(m, "out of memory%s", "");
        free(t);
        return NULL;
    }
    v->tensor = t;
    t->storage_key = storage->s;
    t->elem = storage->elem;
    t->storage_numel = storage->i;
    t->offset = offset;
    t->ndim = (int)size->count;
    for (int d = 0; d < t->ndim; d++) {
        if (!int_arg(size->items[d], &t->shape[d]) || !int_arg(stride->items[d], &t->stride[d]) ||
            t->shape[d] < 0 || t->stride[d] < 0) {
            fail(m, "tensor size or stride has a negative or non-integer entry%s", "");
            return NULL;
        }
    }
    return v;
}

static int op_reduce(machine *m) {
    value *args = pop(m);
    value *callable = args ? pop(m) : NULL;
    if (!callable) return MNV3_FAIL;
    if (callable->kind != V_GLOBAL || args->kind != V_TUPLE)
        return fail(m, "REDUCE needs a global and an argument tuple%s", "");
    value *result = NULL;
    switch (callable->global) {
    case G_ORDERED_DICT:
        if (args->count > 1 || (args->count == 1 && !(args->items[0]->kind == V_LIST &&
                                                      args->items[0]->count == 0)))
            return fail(m, "OrderedDict called with arguments%s", "");
        result = make(m, V_DICT);
        break;
    case G_REBUILD_TENSOR_V2: result = rebuild_tensor(m, args); break;
    case G_REBUILD_PARAMETER:
    case G_PARAMETER:
        if (args->count < 1 || args->count > 3 || args->items[0]->kind != V_TENSOR)
            return fail(m, "parameter rebuild without a tensor%s", "");
        result = args->items[0];
        break;
    case G_GET_LAYOUT:
        if (args->count != 1 || args->items[0]->kind != V_STR ||
            strcmp(args->items[0]->s, "torch.strided") != 0)
            return fail(m, "only the strided layout is supported%s", "");
        result = make(m, V_LAYOUT);
        break;
    case G_STORAGE:
    case G_STRIDED: return fail(m, "a storage type or layout is called%s", "");
    }
    return push(m, result);
}

static int op_persid(machine *m) {
    value *pid = pop(m);
    if (!pid) return MNV3_FAIL;
    if (pid->kind != V_TUPLE || pid->count != 5 || pid->items[0]->kind != V_STR ||
        strcmp(pid->items[0]->s, "storage") != 0 || pid->items[1]->kind != V_GLOBAL ||
        pid->items[1]->global != G_STORAGE || pid->items[2]->kind != V_STR ||
        pid->items[3]->kind != V_STR || pid->items[4]->kind != V_INT || pid->items[4]->i < 0)
        return fail(m, "persistent id is not ('storage', type, key, location, numel)%s", "");
    value *v = make(m, V_STORAGE);
    if (!v) return MNV3_FAIL;
    v->elem = pid->items[1]->elem;
    v->s = pid->items[2]->s; /* borrowed; the arena keeps it alive */
    v->i = pid->items[4]->i;
    return push(m, v);
}

static int op_tuple(machine *m, size_t n_from_stack, int from_mark) {
    size_t first = 0;
    if (from_mark) {
        if (pop_mark(m, &first) != MNV3_OK) return MNV3_FAIL;
    } else {
        if (m->depth - floor_of_stack(m) < n_from_stack) return fail(m, "stack underflow%s", "");
        first = m->depth - n_from_stack;
    }
    value *t = make(m, V_TUPLE);
    if (!t) return MNV3_FAIL;
    for (size_t k = first; k < m->depth; k++)
        if (add_item(m, t, m->stack[k]) != MNV3_OK) return MNV3_FAIL;
    m->depth = first;
    return push(m, t);
}

/* SETITEM(S) and APPEND(S): items from `first` to the top go into the
 * container just below them. */
static int fill_container(machine *m, size_t first, int dict) {
    size_t n = m->depth - first;
    if (first == 0 || first <= floor_of_stack(m)) return fail(m, "stack underflow%s", "");
    value *c = m->stack[first - 1];
    if (c->kind != (dict ? V_DICT : V_LIST))
        return fail(m, dict ? "SETITEM on something that is not a dict%s"
                            : "APPEND on something that is not a list%s", "");
    if (dict && n % 2) return fail(m, "SETITEMS with an odd number of items%s", "");
    for (size_t k = first; k < m->depth; k++)
        if (add_item(m, c, m->stack[k]) != MNV3_OK) return MNV3_FAIL;
    m->depth = first;
    return MNV3_OK;
}

static int step(machine *m, int *stopped) {
    m->op_pos = m->pos;
    unsigned char op = m->pkl[m->pos++];
    size_t mark = 0;
    value *v;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(m, 1) != MNV3_OK) return MNV3_FAIL;
        if (m->pkl[m->pos] < 2 || m->pkl[m->pos] > 5)
            return fail(m, "unsupported pickle protocol%s", "");
        m->pos++;
        return MNV3_OK;
    case 0x95: /* FRAME: framing is only a buffering hint */
        if (need(m, 8) != MNV3_OK) return MNV3_FAIL;
        m->pos += 8;
        return MNV3_OK;
    case '}': return push(m, make(m, V_DICT));
    case ']': return push(m, make(m, V_LIST));
    case ')': return push(m, make(m, V_TUPLE));
    case 'N': return push(m, make(m, V_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        v = make(m, V_BOOL);
        if (v) v->i = op == 0x88;
        return push(m, v);
    case '(': /* MARK */
        if (m->n_marks == MAX_MARKS) return fail(m, "MARKs nested deeper than %s", "1024");
        m->marks[m->n_marks++] = m->depth;
        return MNV3_OK;
    case 't': return op_tuple(m, 0, 1);
    case 0x85: return op_tuple(m, 1, 0);
    case 0x86: return op_tuple(m, 2, 0);
    case 0x87: return op_tuple(m, 3, 0);
    case 'X': /* BINUNICODE */
        if (need(m, 4) != MNV3_OK) return MNV3_FAIL;
        return push_string(m, (size_t)read_uint(m, 4));
    case 0x8c: /* SHORT_BINUNICODE */
        if (need(m, 1) != MNV3_OK) return MNV3_FAIL;
        return push_string(m, (size_t)read_uint(m, 1));
    case 0x8d: { /* BINUNICODE8 */
        if (need(m, 8) != MNV3_OK) return MNV3_FAIL;
        uint64_t n = read_uint(m, 8);
        if (n > m->len - m->pos) return fail(m, "truncated: string runs past the end%s", "");
        return push_string(m, (size_t)n);
    }
    case 'J': /* BININT */
        if (need(m, 4) != MNV3_OK) return MNV3_FAIL;
        return push_int(m, (int32_t)(uint32_t)read_uint(m, 4));
    case 'K': /* BININT1 */
        if (need(m, 1) != MNV3_OK) return MNV3_FAIL;
        return push_int(m, (int64_t)read_uint(m, 1));
    case 'M': /* BININT2 */
        if (need(m, 2) != MNV3_OK) return MNV3_FAIL;
        return push_int(m, (int64_t)read_uint(m, 2));
    case 0x8a: { /* LONG1: little-endian two's complement */
        if (need(m, 1) != MNV3_OK) return MNV3_FAIL;
        size_t n = (size_t)read_uint(m, 1);
        if (n > 8) return fail(m, "integer wider than 64 bits%s", "");
        if (need(m, n) != MNV3_OK) return MNV3_FAIL;
        uint64_t u = read_uint(m, n);
        if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~(uint64_t)0 << (8 * n);
        return push_int(m, (int64_t)u);
    }
    case 'G': /* BINFLOAT: big-endian double; only ever ignored here */
        if (need(m, 8) != MNV3_OK) return MNV3_FAIL;
        m->pos += 8;
        return push(m, make(m, V_FLOAT));
    case 'q': /* BINPUT */
        if (need(m, 1) != MNV3_OK) return MNV3_FAIL;
        return memo_put(m, read_uint(m, 1));
    case 'r': /* LONG_BINPUT */
        if (need(m, 4) != MNV3_OK) return MNV3_FAIL;
        return memo_put(m, read_uint(m, 4));
    case 0x94: /* MEMOIZE */
        return memo_put(m, m->memo_len);
    case 'h': /* BINGET */
        if (need(m, 1) != MNV3_OK) return MNV3_FAIL;
        return memo_get(m, read_uint(m, 1));
    case 'j': /* LONG_BINGET */
        if (need(m, 4) != MNV3_OK) return MNV3_FAIL;
        return memo_get(m, read_uint(m, 4));
    case 'c': return op_global(m);
    case 0x93: return op_stack_global(m);
    case 'R': return op_reduce(m);
    case 'Q': return op_persid(m);
    case 'b': { /* BUILD: state of an OrderedDict (_metadata) or tensor is ignored */
        value *state = pop(m);
        value *obj = state ? top(m) : NULL;
        if (!obj) return MNV3_FAIL;
        if (obj->kind != V_DICT && obj->kind != V_TENSOR)
            return fail(m, "BUILD on something that is not a dict or tensor%s", "");
        return MNV3_OK;
    }
    case 's': /* SETITEM */
        if (m->depth < 2) return fail(m, "stack underflow%s", "");
        return fill_container(m, m->depth - 2, 1);
    case 'u': /* SETITEMS */
        if (pop_mark(m, &mark) != MNV3_OK) return MNV3_FAIL;
        return fill_container(m, mark, 1);
    case 'a': /* APPEND */
        if (m->depth < 1) return fail(m, "stack underflow%s", "");
        return fill_container(m, m->depth - 1, 0);
    case 'e': /* APPENDS */
        if (pop_mark(m, &mark) != MNV3_OK) return MNV3_FAIL;
        return fill_container(m, mark, 0);
    case '0': /* POP */
        return pop(m) ? MNV3_OK : MNV3_FAIL;
    case '1': /* POP_MARK */
        if (pop_mark(m, &mark) != MNV3_OK) return MNV3_FAIL;
        m->depth = mark;
        return MNV3_OK;
    case '2': /* DUP */
        v = top(m);
        return v ? push(m, v) : MNV3_FAIL;
    case '.': /* STOP */
        *stopped = 1;
        return MNV3_OK;
    default: {
        char hex[8];
        snprintf(hex, sizeof hex, "0x%02x", op);
        return fail(m, "unsupported opcode %s", hex);
    }
    }
}

static int all_tensors(const value *dict) {
    for (size_t k = 0; k + 1 < dict->count; k += 2)
        if (dict->items[k]->kind != V_STR || dict->items[k + 1]->kind != V_TENSOR) return 0;
    return 1;
}

/* The state_dict itself, or the one dict inside a checkpoint like
 * {'epoch': 3, 'state_dict': {...}}. */
static const value *find_state_dict(machine *m, const value *root) {
    if (root->kind != V_DICT) {
        mnv3_fail_code(m->err, MNV3_ERR_FORMAT, m->label,
                       "pickle: top-level object is not a dict of tensors");
        return NULL;
    }
    if (all_tensors(root)) return root;
    const value *inner = NULL;
    int n_dicts = 0;
    for (size_t k = 0; k + 1 < root->count; k += 2)
        if (root->items[k + 1]->kind == V_DICT) {
            inner = root->items[k + 1];
            n_dicts++;
        }
    if (n_dicts == 1 && all_tensors(inner)) return inner;
    mnv3_fail_code(
        m->err, MNV3_ERR_FORMAT, m->label,
        "pickle: top-level dict is not a state_dict (it holds values that are not tensors)");
    return NULL;
}

static int emit(machine *m, const value *dict, mnv3_pickled_state_dict *out) {
    size_t n = dict->count / 2;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) return mnv3_fail_code(m->err, MNV3_ERR_MEMORY, m->label, "out of memory");
    out->capacity = n;
    for (size_t k = 0; k < n; k++) {
        const char *key = dict->items[2 * k]->s;
        const tensor_info *t = dict->items[2 * k + 1]->tensor;
        mnv3_pickled_tensor *p = &out->items[out->count++];
        p->key = strdup(key);
        p->storage_key = strdup(t->storage_key);
        if (!p->key || !p->storage_key)
            return mnv3_fail_code(m->err, MNV3_ERR_MEMORY, m->label, "out of memory");
        p->elem = t->elem;
        p->storage_numel = t->storage_numel;
        p->offset = t->offset;
        p->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) {
            p->shape[d] = t->shape[d];
            p->stride[d] = t->stride[d];
        }
    }
    return MNV3_OK;
}

int mnv3_unpickle_state_dict(const unsigned char *pkl, size_t len, const char *label,
                             mnv3_pickled_state_dict *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    if (len > MNV3_FORMATS_MAX_PICKLE)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                              "data.pkl of %zu bytes is implausibly large", len);
    machine m = {0};
    m.pkl = pkl;
    m.len = len;
    m.label = label;
    m.err = err;
    int stopped = 0, rc = MNV3_OK;
    while (!stopped && rc == MNV3_OK) {
        if (m.pos >= m.len) {
            m.op_pos = m.pos;
            rc = fail(&m, "truncated: no STOP opcode%s", "");
            break;
        }
        rc = step(&m, &stopped);
    }
    if (rc == MNV3_OK) {
        value *root = top(&m);
        const value *dict = root ? find_state_dict(&m, root) : NULL;
        rc = dict ? emit(&m, dict, out) : MNV3_FAIL;
    }
    free_all(&m);
    if (rc != MNV3_OK) mnv3_pickled_state_dict_free(out);
    return rc;
}

void mnv3_pickled_state_dict_free(mnv3_pickled_state_dict *sd) {
    for (size_t k = 0; k < sd->count; k++) {
        free(sd->items[k].key);
        free(sd->items[k].storage_key);
    }
    free(sd->items);
    memset(sd, 0, sizeof *sd);
}
