/* export.c — placeholder until the exporters land. */
#include "app.h"

#include <stdio.h>

int
mt_export_main(mt_app *app)
{
    (void)app;
    fprintf(stderr, "ministry-tutor: --export is not built yet\n");
    return 1;
}
