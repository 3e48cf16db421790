/*
 * driver.c -- main() for a fuzz harness built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on each file named (directories: each file in
 * them), so the regression inputs and seeds run under any compiler and
 * sanitizer as ordinary tests.  Exit 0 when every input ran.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, off_t size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    int rc = -1;
    if (!f || !buf) {
        perror(path);
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: short read\n", path);
        goto done;
    }
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    rc = 0;
done:
    if (f) fclose(f);
    free(buf);
    return rc;
}

static int run_path(const char *path, unsigned *count)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        (*count)++;
        return run_file(path, sb.st_size);
    }
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rc = run_path(sub, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) != 0) return 1;
    printf("%u inputs ran\n", count);
    return 0;
}
