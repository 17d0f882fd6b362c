/*
 * test-bench.c: unit tests of chatrelay-bench's self-contained modules: the
 * latency histogram, the frame scanner, base64 and the JWT maker.  Plain C
 * (no Check), so it runs wherever the bench builds; exits 1 on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64.h"
#include "hist.h"
#include "jwt.h"
#include "scan.h"

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		failures++;						\
	}								\
} while (0)

/* Buckets tile the value range without holes and stay within 1/128. */
static void
test_hist_buckets(void)
{
	uint64_t v;
	size_t i;

	CHECK(hist_bucket_of(0) == 0);
	CHECK(hist_bucket_of(127) == 127);
	CHECK(hist_bucket_of(128) == 128);
	CHECK(hist_bucket_of(HIST_VALUE_MAX) == HIST_BUCKETS - 1);
	CHECK(hist_bucket_of(UINT64_MAX) == HIST_BUCKETS - 1);
	for (i = 0; i + 1 < HIST_BUCKETS; i++) {
		CHECK(hist_bucket_high(i) + 1 == hist_bucket_low(i + 1));
		CHECK(hist_bucket_of(hist_bucket_low(i)) == i);
		CHECK(hist_bucket_of(hist_bucket_high(i)) == i);
		if (hist_bucket_low(i) >= 128)
			CHECK((double)(hist_bucket_high(i) - hist_bucket_low(i)) /
			    (double)hist_bucket_low(i) <= 1.0 / 128);
	}
	CHECK(hist_bucket_high(HIST_BUCKETS - 1) == HIST_VALUE_MAX);
	for (v = 1; v < ((uint64_t)1 << 40); v = v * 3 + 1) {
		i = hist_bucket_of(v);
		if (v <= HIST_VALUE_MAX)
			CHECK(hist_bucket_low(i) <= v && v <= hist_bucket_high(i));
	}
}

/* Percentiles of 1..100000 us land within 1% of the exact values. */
static void
test_hist_percentiles(void)
{
	static struct hist h, h2;
	static const double pcts[] = { 1, 50, 90, 99, 99.9 };
	uint64_t i;
	size_t k;

	hist_init(&h);
	CHECK(hist_percentile(&h, 50) == 0);
	CHECK(hist_mean(&h) == 0);
	for (i = 1; i <= 100000; i++)
		hist_record(&h, i * 1000);
	CHECK(h.count == 100000);
	CHECK(h.min == 1000 && h.max == 100000000);
	for (k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		double exact = pcts[k] * 1000.0 * 1000.0;
		double got = (double)hist_percentile(&h, pcts[k]);

		CHECK(got >= exact && got <= exact * 1.01);
	}
	CHECK(hist_percentile(&h, 100) == 100000000);
	CHECK(hist_percentile(&h, 0) >= 1000 &&
	    hist_percentile(&h, 0) <= 1010);
	CHECK(hist_mean(&h) > 50000000.0 && hist_mean(&h) < 50001000.0);

	/* Adding two halves gives the same percentiles as the whole. */
	hist_init(&h2);
	hist_add(&h2, &h);
	CHECK(h2.count == h.count);
	CHECK(hist_percentile(&h2, 99) == hist_percentile(&h, 99));

	/* A single huge value is clamped into the last bucket, max exact. */
	hist_init(&h);
	hist_record(&h, (uint64_t)100 << 36);
	CHECK(h.buckets[HIST_BUCKETS - 1] == 1);
	CHECK(hist_percentile(&h, 50) == (uint64_t)100 << 36);
}

/* Scans the frame s. */
static int
scan_str(const char *s, struct scan *out)
{
	return scan_frame(s, strlen(s), out);
}

#define STR_IS(ss, lit) \
	((ss).len == sizeof(lit) - 1 && memcmp((ss).p, (lit), (ss).len) == 0)

static void
test_scan(void)
{
	struct scan s;

	CHECK(scan_str("{\"op\":\"msg\",\"seq\":17,\"ts\":1795520820826,"
	    "\"ch\":\"bench-ab-3\",\"from\":{\"id\":\"guest:b1\",\"name\":"
	    "\"b1\",\"x\":[1,{\"y\":\"}\"}]},\"text\":\"t=123456789;xxxx\","
	    "\"meta\":{\"k\":\"\\\"}\"}}", &s) == 0);
	CHECK(s.op == SCAN_OP_MSG);
	CHECK(s.seq == 17);
	CHECK(s.ts == 1795520820826LL);
	CHECK(STR_IS(s.ch, "bench-ab-3"));
	CHECK(s.stamp == 123456789);
	CHECK(s.id == -1);

	/* Whitespace, order, and a text that is not a stamp. */
	CHECK(scan_str(" { \"text\" : \"hello\" , \"op\" : \"msg\" , "
	    "\"seq\" : 2 } ", &s) == 0);
	CHECK(s.op == SCAN_OP_MSG && s.seq == 2 && s.stamp == -1);
	CHECK(scan_str("{\"op\":\"msg\",\"text\":\"t=12x\"}", &s) == 0);
	CHECK(s.stamp == -1);

	CHECK(scan_str("{\"op\":\"ok\",\"id\":1005,\"ch\":\"c\",\"seq\":9,"
	    "\"ts\":1}", &s) == 0);
	CHECK(s.op == SCAN_OP_OK && s.id == 1005 && s.seq == 9);

	CHECK(scan_str("{\"op\":\"err\",\"id\":1001,\"code\":"
	    "\"rate_limited\",\"msg\":\"too many messages\","
	    "\"retry_ms\":99}", &s) == 0);
	CHECK(s.op == SCAN_OP_ERR && s.id == 1001 && s.retry_ms == 99);
	CHECK(STR_IS(s.code, "rate_limited"));
	CHECK(STR_IS(s.msg, "too many messages"));

	CHECK(scan_str("{\"op\":\"bye\",\"code\":4029,\"reason\":"
	    "\"rate limit abuse\"}", &s) == 0);
	CHECK(s.op == SCAN_OP_BYE && s.num_code == 4029);
	CHECK(STR_IS(s.msg, "rate limit abuse"));

	/* A string id and a fractional id are not integer ids. */
	CHECK(scan_str("{\"op\":\"pong\",\"id\":\"p\"}", &s) == 0);
	CHECK(s.op == SCAN_OP_PONG && s.id == -1);
	CHECK(scan_str("{\"op\":\"ok\",\"id\":1.5}", &s) == 0);
	CHECK(s.id == -1);

	CHECK(scan_str("{\"op\":\"joined\",\"id\":2,\"ch\":\"r\",\"seq\":0,"
	    "\"members\":1}", &s) == 0);
	CHECK(s.op == SCAN_OP_JOINED && s.seq == 0 && s.id == 2);
	CHECK(scan_str("{\"op\":\"welcome\",\"user\":{\"id\":\"a\"}}", &s) == 0);
	CHECK(s.op == SCAN_OP_WELCOME);
	CHECK(scan_str("{\"op\":\"history\"}", &s) == 0);
	CHECK(s.op == SCAN_OP_OTHER);
	CHECK(scan_str("{}", &s) == 0);

	/* What cannot be walked is refused, never read past its end. */
	CHECK(scan_str("", &s) == -1);
	CHECK(scan_str("[1]", &s) == -1);
	CHECK(scan_str("{\"op\":\"msg\"", &s) == -1);
	CHECK(scan_str("{\"op\":\"ms", &s) == -1);
	CHECK(scan_str("{\"op\" \"msg\"}", &s) == -1);
	CHECK(scan_str("{\"a\":{\"b\":1}", &s) == -1);
	CHECK(scan_str("{\"op\":\"msg\",}", &s) == -1);
	CHECK(scan_frame("{\"seq\":12}", 8, &s) == -1);
}

static void
test_b64(void)
{
	char out[64];

	CHECK(b64_encode((const uint8_t *)"", 0, out, false) == 0);
	b64_encode((const uint8_t *)"f", 1, out, false);
	CHECK(strcmp(out, "Zg==") == 0);
	b64_encode((const uint8_t *)"fo", 2, out, false);
	CHECK(strcmp(out, "Zm8=") == 0);
	b64_encode((const uint8_t *)"foobar", 6, out, false);
	CHECK(strcmp(out, "Zm9vYmFy") == 0);
	b64_encode((const uint8_t *)"fo", 2, out, true);
	CHECK(strcmp(out, "Zm8") == 0);
	b64_encode((const uint8_t *)"\xfb\xff", 2, out, true);
	CHECK(strcmp(out, "-_8") == 0);
	b64_encode((const uint8_t *)"\xfb\xff", 2, out, false);
	CHECK(strcmp(out, "+/8=") == 0);
}

static void
test_jwt(void)
{
	char tok[JWT_MAX], signing[JWT_MAX], sig[64];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const char *dot2;
	int n;

	n = jwt_mint("s3cret", "b42", 2000000000, tok, sizeof(tok));
	CHECK(n > 0 && (size_t)n == strlen(tok));
	/* {"alg":"HS256","typ":"JWT"} and {"sub":"b42","exp":2000000000} */
	CHECK(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	    "eyJzdWIiOiJiNDIiLCJleHAiOjIwMDAwMDAwMDB9.", 78) == 0);
	dot2 = strrchr(tok, '.');
	CHECK(dot2 != NULL && strlen(dot2 + 1) == 43);
	if (dot2 != NULL) {
		memcpy(signing, tok, (size_t)(dot2 - tok));
		signing[dot2 - tok] = '\0';
		HMAC(EVP_sha256(), "s3cret", 6, (unsigned char *)signing,
		    strlen(signing), mac, &maclen);
		b64_encode(mac, maclen, sig, true);
		CHECK(strcmp(sig, dot2 + 1) == 0);
	}
	CHECK(jwt_mint("s", "", 0, tok, sizeof(tok)) == -1);
	CHECK(jwt_mint("s", "a b", 0, tok, sizeof(tok)) == -1);
	CHECK(jwt_mint("s", "a\"b", 0, tok, sizeof(tok)) == -1);
	CHECK(jwt_mint("s", "b1", 0, tok, 20) == -1);
}

int
main(void)
{
	test_hist_buckets();
	test_hist_percentiles();
	test_scan();
	test_b64();
	test_jwt();
	if (failures > 0) {
		fprintf(stderr, "test-bench: %d checks failed\n", failures);
		return 1;
	}
	printf("test-bench: all checks passed\n");
	return 0;
}
