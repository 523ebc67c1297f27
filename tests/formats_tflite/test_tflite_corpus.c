/* Replays the fuzz corpus (tests/formats_tflite/corpus/) through the TFLite
 * readers in every build, sanitizers included: a file may be accepted or
 * rejected; a crash or a malformed message is the failure. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/tflite.h"
#include "kit.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        printf("%s: cannot open the corpus directory\n", argv[1]);
        return 1;
    }
    int files = 0, accepted = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        size_t len = 0;
        unsigned char *buf = kit_slurp(path, &len);
        if (!buf) continue;
        mnv3_error err;
        mnv3_tflite_model *m;
        if (mnv3_tflite_open(buf, len, "corpus", &m, &err) == MNV3_OK) {
            accepted++;
            mnv3_tflite_free(m);
        } else {
            kit_expect_fail_quiet(e->d_name, MNV3_FAIL, &err, "corpus", NULL);
        }
        mnv3_tensors ts;
        if (mnv3_read_tflite_buffer(buf, len, "corpus", &ts, NULL, &err) == MNV3_OK)
            mnv3_tensors_free(&ts);
        else
            kit_expect_fail_quiet(e->d_name, MNV3_FAIL, &err, "corpus", NULL);
        free(buf);
        files++;
    }
    closedir(d);
    printf("%d corpus files replayed, %d parse as flatbuffers\n", files, accepted);
    CHECK(files > 0);
    return kit_failures ? 1 : 0;
}
