/*
 * jwt.c: a minimal HS256 JWT maker, written for the bench so that it shares
 * no code with the relay's verifier (a bug in one must not hide the same bug
 * in the other).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64.h"
#include "jwt.h"

int
jwt_mint(const char *secret, const char *sub, int64_t exp, char *out,
    size_t outsz)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char payload[160], signing[JWT_MAX];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t sl = strlen(sub), hl, pl, n;
	int len;
	size_t i;

	if (sl == 0 || sl > 64)
		return -1;
	for (i = 0; i < sl; i++)
		if (sub[i] < '!' || sub[i] > '~' || sub[i] == '"' ||
		    sub[i] == '\\')
			return -1;
	if (exp > 0)
		len = snprintf(payload, sizeof(payload),
		    "{\"sub\":\"%s\",\"exp\":%lld}", sub, (long long)exp);
	else
		len = snprintf(payload, sizeof(payload), "{\"sub\":\"%s\"}",
		    sub);
	if (len < 0 || (size_t)len >= sizeof(payload))
		return -1;
	pl = (size_t)len;
	hl = sizeof(header) - 1;
	if (B64_ENCODED_SIZE(hl) + B64_ENCODED_SIZE(pl) + 1 > sizeof(signing))
		return -1;
	n = b64_encode((const uint8_t *)header, hl, signing, true);
	signing[n++] = '.';
	n += b64_encode((const uint8_t *)payload, pl, signing + n, true);
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)signing, n, mac, &maclen) == NULL)
		return -1;
	if (n + 1 + B64_ENCODED_SIZE(maclen) > outsz)
		return -1;
	memcpy(out, signing, n);
	out[n++] = '.';
	n += b64_encode(mac, maclen, out + n, true);
	return (int)n;
}
