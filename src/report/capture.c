/* report/capture.c: what capture (and watch, per core) prints on stdout. */
#include "report/capture.h"

#include "report/json.h"
#include "report/report.h"

void pca_report_capture(FILE *out, bool json, const struct pca_capture_report *c)
{
	if (json) {
		struct pca_json j;
		pca_json_init(&j, out);
		pca_json_object_begin(&j);
		pca_json_key(&j, "schema");
		pca_json_int(&j, 1);
		pca_json_key(&j, "capture");
		pca_json_object_begin(&j);
		pca_json_key(&j, "pid");
		pca_json_int(&j, c->pid);
		pca_json_key(&j, "path");
		pca_json_string(&j, c->path);
		pca_json_key(&j, "bytes");
		pca_json_uint(&j, c->bytes);
		pca_json_key(&j, "threads");
		pca_json_uint(&j, c->threads);
		pca_json_key(&j, "seconds");
		pca_json_double(&j, c->seconds);
		pca_json_key(&j, "paused_seconds");
		pca_json_double(&j, c->paused_seconds);
		pca_json_object_end(&j);
		pca_json_key(&j, "warnings");
		pca_json_array_begin(&j);
		pca_json_array_end(&j);
		pca_json_object_end(&j);
	} else {
		char size[32];
		pca_format_bytes(c->bytes, size, sizeof(size));
		fprintf(out, "captured process %ld (%zu threads) to %s: %s in %.1f s, paused %.2f s\n",
			c->pid, c->threads, c->path, size, c->seconds, c->paused_seconds);
	}
}
