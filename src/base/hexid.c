/* base/hexid.c -- the stored form of span ids; see base/hexid.h. */
#include "base/hexid.h"

#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

size_t sl_hexid_encode(const char *id, unsigned char out[SL_HEXID_MAX])
{
    if (!id) return 0;
    size_t len = strlen(id);
    if (len < 2 || len % 2 || len > 2 * SL_HEXID_MAX) return 0; /* R2 */
    unsigned char tmp[SL_HEXID_MAX];
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(id[i]), lo = hex_digit(id[i + 1]);
        if (hi < 0 || lo < 0) return 0; /* R2 */
        tmp[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    memcpy(out, tmp, len / 2);
    return len / 2;
}

void sl_hexid_decode(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}
