#include "target/decompress.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum { CHUNK = 1 << 20 };

enum pca_compression pca_compression_detect(const unsigned char *h, size_t n)
{
	if (n >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
		return PCA_COMPRESSION_ZSTD;
	if (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0)
		return PCA_COMPRESSION_XZ;
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return PCA_COMPRESSION_GZIP;
	if (n >= 4 && h[0] == 0x04 && h[1] == 0x22 && h[2] == 0x4d && h[3] == 0x18)
		return PCA_COMPRESSION_LZ4;
	return PCA_COMPRESSION_NONE;
}

const char *pca_compression_name(enum pca_compression c)
{
	switch (c) {
	case PCA_COMPRESSION_ZSTD: return "zstd";
	case PCA_COMPRESSION_XZ: return "xz";
	case PCA_COMPRESSION_GZIP: return "gzip";
	case PCA_COMPRESSION_LZ4: return "lz4";
	default: return "none";
	}
}

struct stream {
	int in, out;
	const char *path;
	unsigned char *inbuf, *outbuf;
	bool ended_early;
	uint64_t written;
};

static uint64_t output_limit = UINT64_MAX;

void pca_decompress_set_limit(uint64_t bytes)
{
	output_limit = bytes;
}

static struct pca_error *write_all(struct stream *s, const unsigned char *buf, size_t n)
{
	if (n > output_limit - s->written)
		return pca_error_create(PCA_ERROR_FORMAT,
					"cannot decompress %s: it expands past %llu bytes, the limit set for this run",
					s->path, (unsigned long long)output_limit);
	s->written += n;
	while (n > 0) {
		ssize_t w = write(s->out, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return pca_error_create(PCA_ERROR_OS,
						"cannot decompress %s: writing the temporary copy failed (%s): set TMPDIR to a file system with room for the whole core",
						s->path, strerror(errno));
		buf += w;
		n -= (size_t)w;
	}
	return NULL;
}

static ssize_t read_some(struct stream *s)
{
	ssize_t r;
	do
		r = read(s->in, s->inbuf, CHUNK);
	while (r < 0 && errno == EINTR);
	return r;
}

static struct pca_error *corrupt(struct stream *s, enum pca_compression c, const char *why)
{
	return pca_error_create(PCA_ERROR_FORMAT, "%s: the %s stream is damaged (%s): decompress it by hand to see how much is left",
				s->path, pca_compression_name(c), why);
}

static struct pca_error *run_zstd(struct stream *s)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z)
		return &pca_error_nomem;
	struct pca_error *err = NULL;
	size_t ret = 0;
	ZSTD_initDStream(z);
	for (ssize_t r; !err && (r = read_some(s)) > 0;) {
		ZSTD_inBuffer in = {s->inbuf, (size_t)r, 0};
		while (!err && in.pos < in.size) {
			ZSTD_outBuffer out = {s->outbuf, CHUNK, 0};
			ret = ZSTD_decompressStream(z, &out, &in);
			if (ZSTD_isError(ret))
				err = corrupt(s, PCA_COMPRESSION_ZSTD, ZSTD_getErrorName(ret));
			else
				err = write_all(s, s->outbuf, out.pos);
		}
	}
	if (!err && ret != 0)
		s->ended_early = true;
	ZSTD_freeDStream(z);
	return err;
}

static struct pca_error *run_xz(struct stream *s)
{
	lzma_stream z = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return &pca_error_nomem;
	struct pca_error *err = NULL;
	lzma_ret ret = LZMA_OK;
	bool eof = false;
	while (!err && ret != LZMA_STREAM_END) {
		if (z.avail_in == 0 && !eof) {
			ssize_t r = read_some(s);
			eof = r <= 0;
			z.next_in = s->inbuf;
			z.avail_in = r > 0 ? (size_t)r : 0;
		}
		z.next_out = s->outbuf;
		z.avail_out = CHUNK;
		ret = lzma_code(&z, eof ? LZMA_FINISH : LZMA_RUN);
		if (ret == LZMA_BUF_ERROR) {
			s->ended_early = true;
			err = write_all(s, s->outbuf, CHUNK - z.avail_out);
			break;
		}
		if (ret != LZMA_OK && ret != LZMA_STREAM_END)
			err = corrupt(s, PCA_COMPRESSION_XZ, "bad data");
		else
			err = write_all(s, s->outbuf, CHUNK - z.avail_out);
	}
	lzma_end(&z);
	return err;
}

static struct pca_error *run_gzip(struct stream *s)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return &pca_error_nomem;
	struct pca_error *err = NULL;
	int ret = Z_OK;
	for (ssize_t r; !err && ret != Z_STREAM_END && (r = read_some(s)) > 0;) {
		z.next_in = s->inbuf;
		z.avail_in = (uInt)r;
		while (!err && z.avail_in > 0 && ret != Z_STREAM_END) {
			z.next_out = s->outbuf;
			z.avail_out = CHUNK;
			ret = inflate(&z, Z_NO_FLUSH);
			if (ret != Z_OK && ret != Z_STREAM_END)
				err = corrupt(s, PCA_COMPRESSION_GZIP, z.msg ? z.msg : "bad data");
			else
				err = write_all(s, s->outbuf, CHUNK - z.avail_out);
		}
	}
	if (!err && ret != Z_STREAM_END)
		s->ended_early = true;
	inflateEnd(&z);
	return err;
}

static struct pca_error *run_lz4(struct stream *s)
{
	LZ4F_dctx *z;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
		return &pca_error_nomem;
	struct pca_error *err = NULL;
	size_t hint = 1;
	for (ssize_t r; !err && hint != 0 && (r = read_some(s)) > 0;) {
		size_t pos = 0;
		while (!err && pos < (size_t)r && hint != 0) {
			size_t out_size = CHUNK, in_size = (size_t)r - pos;
			hint = LZ4F_decompress(z, s->outbuf, &out_size, s->inbuf + pos, &in_size, NULL);
			if (LZ4F_isError(hint))
				err = corrupt(s, PCA_COMPRESSION_LZ4, LZ4F_getErrorName(hint));
			else
				err = write_all(s, s->outbuf, out_size);
			pos += in_size;
		}
	}
	if (!err && hint != 0)
		s->ended_early = true;
	LZ4F_freeDecompressionContext(z);
	return err;
}

struct pca_error *pca_decompress_to_tmpfile(int fd, const char *path, enum pca_compression c,
					    int *ret, bool *ret_truncated)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int out = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (out < 0)
		return pca_error_create(PCA_ERROR_OS, "cannot decompress %s: no temporary file in %s (%s): set TMPDIR",
					path, dir, strerror(errno));
	struct stream s = {fd, out, path, malloc(CHUNK), malloc(CHUNK)};
	struct pca_error *err = NULL;
	if (!s.inbuf || !s.outbuf || lseek(fd, 0, SEEK_SET) != 0)
		err = s.inbuf && s.outbuf ? pca_error_create(PCA_ERROR_OS, "cannot read %s", path)
					  : &pca_error_nomem;
	else if (c == PCA_COMPRESSION_ZSTD)
		err = run_zstd(&s);
	else if (c == PCA_COMPRESSION_XZ)
		err = run_xz(&s);
	else if (c == PCA_COMPRESSION_GZIP)
		err = run_gzip(&s);
	else
		err = run_lz4(&s);
	free(s.inbuf);
	free(s.outbuf);
	if (err) {
		close(out);
		return err;
	}
	*ret = out;
	*ret_truncated = s.ended_early;
	return NULL;
}
