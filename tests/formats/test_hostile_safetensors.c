/* Hostile safetensors buffers: each must fail with "bad.safetensors: ...". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "kit.h"
#include "craft.h"

static const char *label = "bad.safetensors";

/* header_len_override -1: the JSON's real length; -2: 2^64-1. */
static void run(const char *what, const char *json, int64_t header_len_override, size_t data_bytes,
                const char *want) {
    bytes b = {0};
    size_t jl = strlen(json);
    uint64_t hl = header_len_override == -2 ? UINT64_MAX
                 : header_len_override < 0 ? jl : (uint64_t)header_len_override;
    bytes_le(&b, hl, 8);
    bytes_put(&b, json, jl);
    for (size_t i = 0; i < data_bytes; i++) bytes_u8(&b, (unsigned)i);
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_safetensors_buffer(b.p, b.n, label, &ts, &err);
    kit_expect_fail(what, rc, &err, label, want);
    CHECK(ts.count == 0 && ts.items == NULL);
    mnv3_tensors_free(&ts);
    bytes_free(&b);
}

#define T(body) "{\"w\":{" body "}}"

int main(void) {
    run("header length beyond file", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"),
        1000, 4, "exceeds");
    run("header length 2^64-1", "{}", -2, 0, "exceeds");
    run("bad JSON", "{\"w\":{\"dtype\":\"F32\",", -1, 0, "not valid JSON");
    run("JSON not an object", "[1,2,3]", -1, 0, "not a JSON object");
    run("offsets out of range", T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"), -1, 4,
        "out of range");
    run("begin after end", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]"), -1, 8,
        "out of range");
    run("byte count mismatch", T("\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]"), -1, 8,
        "8 bytes stored but shape and F32 need 12");
    run("unknown dtype", T("\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]"), -1, 8,
        "unsupported dtype 'C64'");
    run("negative shape", T("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"), -1, 4,
        "non-negative integer");
    run("fractional offset", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]"), -1, 4,
        "data_offsets");
    run("shape overflow", T("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                            "\"data_offsets\":[0,4]"), -1, 4, "overflows");
    run("9 dimensions", T("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"),
        -1, 4, "9 dimensions");
    run("missing data_offsets", T("\"dtype\":\"F32\",\"shape\":[1]"), -1, 4, "lacks");
    run("entry not an object", "{\"w\":3}", -1, 0, "not an object");
    run("duplicate names", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                           "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 4,
        "more than once");
    run("three offsets", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]"), -1, 8,
        "data_offsets");
    mnv3_tensors ts;
    mnv3_error err;
    kit_expect_fail("7-byte file", mnv3_read_safetensors_buffer("\1\0\0\0\0\0\0", 7, label, &ts, &err),
                &err, label, "truncated");
    kit_expect_fail("missing file", mnv3_read_safetensors("/nonexistent/x.safetensors", &ts, &err), &err,
                "/nonexistent/x.safetensors", "cannot open");
    if (kit_failures) printf("%d check(s) failed\n", kit_failures);
    return kit_failures ? 1 : 0;
}
