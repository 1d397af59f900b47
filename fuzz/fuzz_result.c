/* fuzz_result.c — libFuzzer harness: any bytes through mt_result_decode,
 * the frontend's decoder of what the worker sends, and what is decoded
 * through the views that render it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "result.h"
#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
render(const mt_step_result *r)
{
    mt_doc *d = mt_view_output(r);
    free(mt_doc_text(d));
    mt_doc_free(d);
    for (uint32_t i = 0; i < r->nregions; i++) {
        for (int after = 0; after < 2; after++) {
            d = mt_view_region(&r->regions[i], after);
            free(mt_doc_text(d));
            mt_doc_free(d);
            free(mt_view_region_title(&r->regions[i], after));
        }
    }
}

/* Decode the input.  What decodes must render, and must encode to bytes
 * that decode to the same encoding again (the decoder normalises nothing
 * twice); AddressSanitizer catches a read past the input, LeakSanitizer a
 * leak on either path. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_step_result *r = mt_result_decode(data, size);
    if (r == NULL) {
        return 0;
    }
    render(r);
    size_t n1, n2;
    uint8_t *e1 = mt_result_encode(r, &n1);
    mt_step_result *r2 = mt_result_decode(e1, n1);
    if (r2 == NULL) {
        abort();      /* the decoder refused what the encoder made */
    }
    uint8_t *e2 = mt_result_encode(r2, &n2);
    if (n1 != n2 || memcmp(e1, e2, n1) != 0) {
        abort();
    }
    free(e1);
    free(e2);
    mt_result_free(r2);
    mt_result_free(r);
    return 0;
}
