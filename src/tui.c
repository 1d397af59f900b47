/* tui.c — placeholder until the ncurses frontend lands: the plain text. */
#include "app.h"

int
mt_tui_main(mt_app *app)
{
    return mt_plain_main(app);
}
