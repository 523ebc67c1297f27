/* The small public helpers of mnv3_core.h: the version, error-code names
 * and the defaults of the option structs. */
#include "core/util.h"

#define MNV3_STR_(x) #x
#define MNV3_STR(x) MNV3_STR_(x)

const char *mnv3_version(void) {
    return MNV3_STR(MNV3_VERSION_MAJOR) "." MNV3_STR(MNV3_VERSION_MINOR) "." MNV3_STR(
        MNV3_VERSION_PATCH);
}

/* Indexed by code; the assertion catches a code added without a name. */
static const char *const code_names[] = {
    [MNV3_ERR_NONE] = "none",         [MNV3_ERR_OTHER] = "other",
    [MNV3_ERR_ARGUMENT] = "argument", [MNV3_ERR_IO] = "io",
    [MNV3_ERR_FORMAT] = "format",     [MNV3_ERR_LIMIT] = "limit",
    [MNV3_ERR_UNSUPPORTED] = "unsupported", [MNV3_ERR_SHAPE] = "shape",
    [MNV3_ERR_MISSING] = "missing",   [MNV3_ERR_NONFINITE] = "nonfinite",
    [MNV3_ERR_MEMORY] = "memory",     [MNV3_ERR_SYSTEM] = "system",
};
_Static_assert(sizeof code_names / sizeof code_names[0] == MNV3_ERR_COUNT,
               "code_names must name every mnv3_error_code");

const char *mnv3_error_code_name(int code) {
    return code >= 0 && code < MNV3_ERR_COUNT && code_names[code] ? code_names[code] : "unknown";
}

mnv3_run_options mnv3_run_options_default(void) {
    mnv3_run_options o = {0};
    o.profile = mnv3_profile_find("torch");
    return o;
}

mnv3_session_options mnv3_session_options_default(void) {
    mnv3_session_options o = {0};
    o.kernels = "fast";
    o.threads = 1;
    return o;
}
