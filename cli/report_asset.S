/* report_asset.S — cli/report_page.html linked into posenc as the
 * NUL-terminated string posenc_report_page (cmd_report.c), so that the
 * program needs nothing from the source tree at run time. The assembler
 * reads the file relative to the directory make runs in (the repository). */
    .section .rodata
    .global posenc_report_page
    .type posenc_report_page, @object
posenc_report_page:
    .incbin "cli/report_page.html"
    .byte 0
    .size posenc_report_page, . - posenc_report_page
    .section .note.GNU-stack, "", @progbits
