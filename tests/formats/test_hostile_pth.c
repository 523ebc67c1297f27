/* Hostile torch.save archives, built at test time: each must fail with a
 * one-line "hostile.pth: ..." message and never crash, hang or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "kit.h"
#include "craft.h"

static const char *label = "hostile.pth";
static unsigned char floats24[24];

/* Wraps a pickle into an archive with data/0 holding `storage_bytes` bytes. */
static void run_pickle(const char *what, const bytes *pkl, size_t storage_bytes, const char *want) {
    static unsigned char storage[4096];
    bytes zip = {0};
    zip_member m[] = {
        {"archive/data.pkl", pkl->p, pkl->n},
        {"archive/data/0", storage, storage_bytes},
    };
    CHECK(make_zip(m, 2, &zip) == 0);
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_pth_buffer(zip.p, zip.n, label, &ts, &err);
    kit_expect_fail(what, rc, &err, label, want);
    CHECK(ts.count == 0 && ts.items == NULL);
    mnv3_tensors_free(&ts);
    bytes_free(&zip);
}

static void one_tensor(const char *what, int64_t numel, int ndim, const int64_t *shape,
                       const int64_t *stride, int64_t offset, size_t storage_bytes,
                       const char *want) {
    pk_tensor t = {"w", "FloatStorage", "0", numel, offset, ndim, {0}, {0}};
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        t.stride[i] = stride[i];
    }
    bytes pkl = {0};
    pk_state_dict(&pkl, &t, 1);
    run_pickle(what, &pkl, storage_bytes, want);
    bytes_free(&pkl);
}

static void test_globals(void) {
    const char *bad[][2] = {{"os", "system"}, {"posix", "system"}, {"builtins", "eval"},
                            {"subprocess", "Popen"}, {"torch", "load"}, {"collections", "deque"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int stacked = 0; stacked < 2; stacked++) {
            bytes pkl = {0};
            bytes_u8(&pkl, 0x80); bytes_u8(&pkl, 4);
            if (stacked) pk_stack_global(&pkl, bad[i][0], bad[i][1]);
            else pk_global(&pkl, bad[i][0], bad[i][1]);
            pk_str(&pkl, "touch /tmp/pwned");
            pk_op(&pkl, 0x85);
            pk_op(&pkl, 'R');
            pk_op(&pkl, '.');
            char what[80], want[160];
            snprintf(what, sizeof what, "%s %s.%s", stacked ? "STACK_GLOBAL" : "GLOBAL", bad[i][0], bad[i][1]);
            snprintf(want, sizeof want,
                     "pickle names disallowed global '%s.%s' (only torch tensor rebuilds and "
                     "OrderedDict are allowed)", bad[i][0], bad[i][1]);
            run_pickle(what, &pkl, 0, want);
            bytes_free(&pkl);
        }
    }
    /* a disallowed global hidden after a valid prefix of a real state_dict */
    bytes pkl = {0};
    const pk_tensor t = {"w", "FloatStorage", "0", 6, 0, 1, {6}, {1}};
    pk_state_dict(&pkl, &t, 1);
    pkl.n--; /* drop STOP */
    pk_op(&pkl, '0');
    pk_global(&pkl, "os", "system");
    pk_op(&pkl, '.');
    run_pickle("GLOBAL os.system after a state_dict", &pkl, 24, "disallowed global 'os.system'");
    bytes_free(&pkl);
}

static void raw_pickle(const char *what, const char *ops, size_t n, const char *want) {
    bytes pkl = {0};
    bytes_put(&pkl, ops, n);
    run_pickle(what, &pkl, 0, want);
    bytes_free(&pkl);
}

static void test_machine(void) {
#define RAW(what, literal, want) raw_pickle(what, literal, sizeof(literal) - 1, want)
    RAW("BINGET of unset memo", "\x80\x02h\x05.", "memo index 5 was never set");
    RAW("LONG_BINGET of unset memo", "\x80\x02}q\x00j\x00\x01\x00\x00.", "never set");
    RAW("LONG_BINPUT huge index", "\x80\x02}r\xff\xff\xff\xff.", "memo index too large");
    RAW("empty pickle", "", "no STOP");
    RAW("no STOP", "\x80\x02}", "no STOP");
    RAW("STOP on empty stack", ".", "stack underflow");
    RAW("unknown opcode", "\x80\x02i", "unsupported opcode 0x69");
    RAW("protocol 9", "\x80\x09}.", "protocol");
    RAW("top-level list", "\x80\x02].", "not a dict");
    RAW("dict of ints", "\x80\x02}X\x01\x00\x00\x00" "aK\x01s.", "not a state_dict");
    RAW("string past end", "\x80\x02X\xff\xff\xff\x7f", "truncated");
    RAW("BINUNICODE8 huge", "\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff", "truncated");
    RAW("LONG1 too wide", "\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09.", "wider than 64");
    RAW("SETITEM on list", "\x80\x02]K\x01K\x02s.", "not a dict");
    RAW("SETITEMS odd", "\x80\x02}(K\x01u.", "odd number");
    RAW("TUPLE without MARK", "\x80\x02t.", "no MARK");
    RAW("TUPLE2 underflow", "\x80\x02K\x01\x86.", "underflow");
    RAW("pop below MARK", "\x80\x02K\x01(0.", "underflow");
    RAW("REDUCE non-callable", "\x80\x02K\x01)R.", "REDUCE needs a global");
    RAW("BUILD on int", "\x80\x02K\x01}b.", "BUILD");
    RAW("GLOBAL without newline", "\x80\x02" "ccollections\nOrderedDict", "truncated GLOBAL");
    RAW("NUL in string", "\x80\x02X\x03\x00\x00\x00" "a\x00" "b.", "NUL");
    RAW("persistent id not a storage", "\x80\x02K\x01Q.", "persistent id");
    RAW("OrderedDict with args", "\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R.",
        "OrderedDict called with arguments");
    RAW("call a storage type", "\x80\x02" "ctorch\nFloatStorage\n)R.", "called");
    RAW("rebuild with 2 args", "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\nK\x01K\x02\x86R.",
        "6 or 7 arguments");
#undef RAW

    /* 100000 nested MARKs, and a stack of a million items */
    bytes deep = {0};
    bytes_u8(&deep, 0x80); bytes_u8(&deep, 2);
    for (int i = 0; i < 100000; i++) bytes_u8(&deep, '(');
    bytes_u8(&deep, '.');
    run_pickle("deep MARK nesting", &deep, 0, "MARKs nested deeper than 1024");
    deep.n = 2;
    bytes_u8(&deep, 'N');
    bytes_u8(&deep, 'q'); bytes_u8(&deep, 0);
    for (int i = 0; i < 1100000; i++) { bytes_u8(&deep, 'h'); bytes_u8(&deep, 0); }
    bytes_u8(&deep, '.');
    run_pickle("stack of a million items", &deep, 0, "stack deeper");
    /* many tuples nested inside each other: no recursion anywhere */
    deep.n = 2;
    bytes_u8(&deep, ')');
    for (int i = 0; i < 200000; i++) bytes_u8(&deep, 0x85);
    bytes_u8(&deep, '.');
    run_pickle("200000 nested tuples", &deep, 0, "not a dict");
    bytes_free(&deep);
}

static void test_tensors(void) {
    const int64_t s23[] = {2, 3}, st23[] = {3, 1};
    one_tensor("storage too small", 6, 2, s23, st23, 0, 20, "declares 20 bytes but data.pkl says its storage holds 24 bytes");
    one_tensor("offset past storage", 6, 2, s23, st23, 1, 24, "needs 28");
    const int64_t neg[] = {-4, 3};
    one_tensor("negative shape", 6, 2, neg, st23, 0, 24, "negative");
    const int64_t huge[] = {INT64_C(1) << 62, 4}, hstride[] = {4, 1};
    one_tensor("huge shape", 6, 2, huge, hstride, 0, 24, "impossible size");
    const int64_t wide[] = {3, 3}, wstride[] = {INT64_C(1) << 61, 1};
    one_tensor("huge stride", 6, 2, wide, wstride, 0, 24, "impossible size");
    const int64_t s9[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    one_tensor("9 dimensions", 6, 9, s9, s9, 0, 24, "exceed 8 dimensions");
    const int64_t big[] = {1000, 1000, 1000}, bstride[] = {1000000, 1000, 1};
    one_tensor("4 GB tensor in a small file", 6, 3, big, bstride, 0, 24, "needs 4000000000");

    const int64_t wide0[] = {INT64_C(1) << 28}, zero[] = {0};
    one_tensor("stride-0 view of one element", 6, 1, wide0, zero, 0, 24, "overlap");
    const int64_t s33[] = {3, 3}, interleaved[] = {1, 1};
    one_tensor("interleaved strides", 6, 2, s33, interleaved, 0, 24, "overlap");

    /* storage member missing */
    bytes pkl = {0};
    const pk_tensor t = {"w", "FloatStorage", "7", 6, 0, 1, {6}, {1}};
    pk_state_dict(&pkl, &t, 1);
    run_pickle("storage member missing", &pkl, 24, "missing archive member 'archive/data/7'");
    bytes_free(&pkl);
    /* duplicate keys */
    const pk_tensor two[] = {{"w", "FloatStorage", "0", 6, 0, 1, {6}, {1}},
                             {"w", "FloatStorage", "0", 6, 0, 1, {6}, {1}}};
    pk_state_dict(&pkl, two, 2);
    run_pickle("duplicate key", &pkl, 24, "more than once");
    bytes_free(&pkl);
}

static void test_archive(void) {
    bytes pth = {0};
    CHECK(make_small_pth(&pth) == 0);
    mnv3_tensors ts;
    mnv3_error err;
    char what[64];

    /* every truncation of a valid file */
    int bad = 0;
    for (size_t cut = 0; cut < pth.n; cut += 7) {
        int rc = mnv3_read_pth_buffer(pth.p, cut, label, &ts, &err);
        if (rc != MNV3_FAIL || strncmp(err.message, "hostile.pth: ", 13) != 0 || ts.count) {
            printf("truncated at %zu: %s\n", cut, rc ? err.message : "accepted");
            bad++;
        }
        mnv3_tensors_free(&ts);
    }
    printf("%-40s %s  [%zu cuts]\n", "truncations every 7 bytes", bad ? "FAIL" : "ok  ", pth.n / 7 + 1);
    CHECK(bad == 0);

    /* damaged central directory: every byte of it, one at a time */
    size_t cd = 0;
    for (size_t i = 0; i + 4 <= pth.n; i++)
        if (memcmp(pth.p + i, "PK\1\2", 4) == 0) { cd = i; break; }
    CHECK(cd > 0);
    int crashes = 0, accepted = 0;
    for (size_t i = cd; i < pth.n; i++) {
        for (int flip = 0; flip < 2; flip++) {
            unsigned char saved = pth.p[i];
            pth.p[i] = flip ? (unsigned char)(saved ^ 0xff) : 0x7f;
            int rc = mnv3_read_pth_buffer(pth.p, pth.n, label, &ts, &err);
            if (rc == MNV3_OK) accepted++; /* e.g. a changed timestamp is harmless */
            else if (strncmp(err.message, "hostile.pth: ", 13) != 0) crashes++;
            mnv3_tensors_free(&ts);
            pth.p[i] = saved;
        }
    }
    printf("%-40s %s  [%zu bytes, %d harmless]\n", "central directory corruption",
           crashes ? "FAIL" : "ok  ", pth.n - cd, accepted);
    CHECK(crashes == 0);
    unsigned char saved = pth.p[cd];
    pth.p[cd] = 'X';
    kit_expect_fail("central directory signature", mnv3_read_pth_buffer(pth.p, pth.n, label, &ts, &err),
                &err, label, "zip");
    pth.p[cd] = saved;

    /* storage bytes altered: the CRC check catches it */
    for (size_t i = 0; i + 8 <= pth.n; i++)
        if (memcmp(pth.p + i, "\0\0\0\077\0\0\300\077", 8) == 0) { pth.p[i + 3] ^= 1; break; }
    snprintf(what, sizeof what, "storage bytes altered (CRC)");
    kit_expect_fail(what, mnv3_read_pth_buffer(pth.p, pth.n, label, &ts, &err), &err, label, "CRC");
    bytes_free(&pth);

    /* big-endian archives are refused */
    bytes pkl = {0};
    const pk_tensor t = {"w", "FloatStorage", "0", 6, 0, 1, {6}, {1}};
    pk_state_dict(&pkl, &t, 1);
    bytes zip = {0};
    zip_member m[] = {{"archive/data.pkl", pkl.p, pkl.n}, {"archive/byteorder", "big", 3},
                      {"archive/data/0", floats24, 24}};
    CHECK(make_zip(m, 3, &zip) == 0);
    kit_expect_fail("byteorder big", mnv3_read_pth_buffer(zip.p, zip.n, label, &ts, &err), &err, label,
                "byteorder");
    bytes_free(&zip);
    /* data.pkl at the root or nested two levels is not a torch.save layout */
    zip_member root[] = {{"data.pkl", pkl.p, pkl.n}, {"a/b/data.pkl", pkl.p, pkl.n}};
    CHECK(make_zip(root, 2, &zip) == 0);
    kit_expect_fail("no <dir>/data.pkl", mnv3_read_pth_buffer(zip.p, zip.n, label, &ts, &err), &err,
                label, "zip archive without data.pkl: not a torch.save file");
    bytes_free(&zip);
    zip_member twice[] = {{"a/data.pkl", pkl.p, pkl.n}, {"b/data.pkl", pkl.p, pkl.n}};
    CHECK(make_zip(twice, 2, &zip) == 0);
    kit_expect_fail("two data.pkl", mnv3_read_pth_buffer(zip.p, zip.n, label, &ts, &err), &err, label,
                "more than one data.pkl");
    bytes_free(&zip);
    bytes_free(&pkl);
    kit_expect_fail("not a zip", mnv3_read_pth_buffer("hello", 5, label, &ts, &err), &err, label, "zip");
}

/* A checkpoint {'epoch': 3, 'state_dict': OrderedDict(...)} is unwrapped. */
static void test_nested(void) {
    bytes inner = {0}, pkl = {0};
    const pk_tensor t = {"w", "FloatStorage", "0", 6, 0, 1, {6}, {1}};
    pk_state_dict(&inner, &t, 1);
    bytes_u8(&pkl, 0x80); bytes_u8(&pkl, 2);
    bytes_u8(&pkl, '}');
    bytes_u8(&pkl, '(');
    pk_str(&pkl, "epoch");
    pk_int(&pkl, 3);
    pk_str(&pkl, "state_dict");
    bytes_put(&pkl, inner.p + 2, inner.n - 3); /* without PROTO and STOP */
    bytes_u8(&pkl, 'u');
    bytes_u8(&pkl, '.');
    bytes zip = {0};
    zip_member m[] = {{"ckpt/data.pkl", pkl.p, pkl.n}, {"ckpt/data/0", floats24, 24}};
    CHECK(make_zip(m, 2, &zip) == 0);
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_pth_buffer(zip.p, zip.n, "ckpt.pth", &ts, &err);
    if (rc != MNV3_OK) printf("nested: %s\n", err.message);
    CHECK(rc == MNV3_OK && ts.count == 1 && strcmp(ts.items[0].name, "w") == 0);
    printf("%-40s %s\n", "nested {'state_dict': ...} unwrapped", rc == MNV3_OK ? "ok" : "FAIL");
    mnv3_tensors_free(&ts);
    bytes_free(&zip);
    bytes_free(&pkl);
    bytes_free(&inner);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    test_globals();
    test_machine();
    test_tensors();
    test_archive();
    test_nested();
    if (kit_failures) printf("%d check(s) failed\n", kit_failures);
    return kit_failures ? 1 : 0;
}
