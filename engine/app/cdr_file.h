/* cdr_file.h — the rolling CSV file of CDRs (issue 10, like FreeSWITCH's mod_cdr_csv or
 * Asterisk's cdr_csv): with cdr_csv_dir set, each leg's CDR is appended as a CSV line
 * (store/cdr_csv.c's columns, header first in each new file) when the leg's call ends, to
 * DIR/cdr-YYYY-MM-DD.csv, the day of its end in the centre's zone: a new file each day.
 * The database stays the record; the file is for tools that read CSV. */
#ifndef HL_CDR_FILE_H
#define HL_CDR_FILE_H
#include "core/config.h"
#include "store/cdr.h"

typedef struct hl_cdr_file hl_cdr_file;

/* live_cfg is read at each write (a reload may turn it on, off or move it); a relative
 * cdr_csv_dir is below data_dir. */
hl_cdr_file *hl_cdr_file_new(const hl_config *live_cfg, const char *data_dir);
void         hl_cdr_file_write(hl_cdr_file *f, const hl_cdr *cdr);
void         hl_cdr_file_free(hl_cdr_file *f);

#endif
