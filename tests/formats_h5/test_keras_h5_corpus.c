/* Replays the fuzz corpus (and the fixtures) through the buffer reader:
 * a file may be accepted or refused; a crash, a sanitizer report or a
 * message that is not one line naming the input fails.
 * Usage: test_keras_h5_corpus DIR... */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/keras_h5.h"
#include "kit.h"

int main(int argc, char **argv) {
    int files = 0, accepted = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) {
            fprintf(stderr, "cannot open %s\n", argv[a]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            unsigned char *buf;
            size_t len;
            mnv3_error err;
            if (mnv3_read_file(path, (size_t)1 << 26, &buf, &len, &err) != MNV3_OK) {
                kit_fail("%s", err.message);
                continue;
            }
            mnv3_tensors ts;
            files++;
            if (mnv3_read_keras_h5_buffer(buf, len, "corpus", &ts, &err) == MNV3_OK) {
                accepted++;
                mnv3_tensors_free(&ts);
            } else {
                kit_expect_fail_quiet(path, MNV3_FAIL, &err, "corpus", NULL);
            }
            free(buf);
        }
        closedir(d);
    }
    printf("%d files, %d accepted, %d failures\n", files, accepted, kit_failures);
    return kit_failures || files == 0 ? 1 : 0;
}
