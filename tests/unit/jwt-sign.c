/*
 * jwt-sign.c: signs HS256 JSON Web Tokens for check_auth's round-trip test.
 *
 * Moved here from auth.c, which only verifies: the relay never signs a
 * token, so this code belongs to the tests.  The claims are built with
 * cJSON, the signature is OpenSSL's HMAC-SHA256, and base64url is written
 * out here, apart from auth.c's decoder.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt-sign.h"

#define JWT_SIGN_MAC_LEN 32		/* HMAC-SHA256 output, bytes */
#define JWT_SIGN_MAC_B64_LEN 43		/* its unpadded base64url length */

static const char jwt_sign_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Encodes n bytes of in as unpadded base64url into out, which must hold
 * (n * 4 + 2) / 3 + 1 bytes.  Returns the length written, without the NUL.
 */
static size_t
jwt_sign_b64url(const unsigned char *in, size_t n, char *out)
{
	size_t		i, o = 0;
	uint32_t	acc = 0;
	int		bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = jwt_sign_b64_chars[(acc >> bits) & 0x3f];
		}
		acc &= (1U << bits) - 1;
	}
	if (bits > 0)
		out[o++] = jwt_sign_b64_chars[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
	return o;
}

/* Computes HMAC-SHA256(secret, data) into mac.  Returns 0, or -1. */
static int
jwt_sign_hmac(const char *secret, const char *data, size_t len,
    unsigned char mac[JWT_SIGN_MAC_LEN])
{
	unsigned int	maclen = 0;

	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)data, len, mac, &maclen) == NULL)
		return -1;
	return maclen == JWT_SIGN_MAC_LEN ? 0 : -1;
}

char *
test_jwt_sign(const char *secret, const char *sub, const char *name,
    const char *role, int64_t exp, const char *const *chs, int nchs)
{
	static const char	 hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char		 mac[JWT_SIGN_MAC_LEN];
	cJSON			*claims, *arr;
	char			*payload = NULL, *tok = NULL;
	size_t			 plen, size, o;
	int			 i;

	if (secret == NULL || *secret == '\0' || sub == NULL || nchs < 0)
		return NULL;
	if ((claims = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(claims, "sub", sub) == NULL)
		goto out;
	if (name != NULL && cJSON_AddStringToObject(claims, "name", name) == NULL)
		goto out;
	if (role != NULL && cJSON_AddStringToObject(claims, "role", role) == NULL)
		goto out;
	if (exp != 0 &&
	    cJSON_AddNumberToObject(claims, "exp", (double)exp) == NULL)
		goto out;
	if (chs != NULL) {
		if ((arr = cJSON_AddArrayToObject(claims, "chs")) == NULL)
			goto out;
		for (i = 0; i < nchs; i++) {
			if (!cJSON_AddItemToArray(arr,
			    cJSON_CreateString(chs[i])))
				goto out;
		}
	}
	if ((payload = cJSON_PrintUnformatted(claims)) == NULL)
		goto out;

	plen = strlen(payload);
	size = (sizeof hdr * 4 + 2) / 3 + 1 + (plen * 4 + 2) / 3 + 1 +
	    JWT_SIGN_MAC_B64_LEN + 1;
	if ((tok = malloc(size)) == NULL)
		goto out;
	o = jwt_sign_b64url((const unsigned char *)hdr, sizeof hdr - 1, tok);
	tok[o++] = '.';
	o += jwt_sign_b64url((const unsigned char *)payload, plen, tok + o);
	if (jwt_sign_hmac(secret, tok, o, mac) != 0) {
		free(tok);
		tok = NULL;
		goto out;
	}
	tok[o++] = '.';
	jwt_sign_b64url(mac, sizeof mac, tok + o);
	OPENSSL_cleanse(mac, sizeof mac);

out:
	cJSON_free(payload);
	cJSON_Delete(claims);
	return tok;
}
