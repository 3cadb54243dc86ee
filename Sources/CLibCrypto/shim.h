#ifndef WXAUTH_CLIBCRYPTO_SHIM_H
#define WXAUTH_CLIBCRYPTO_SHIM_H
// The system OpenSSL (libcrypto, Debian libssl-dev). Only the WXAuthCrypto module imports this.
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/err.h>

/// Fetches HMAC-SHA256 once and returns a context keyed with `key`; NULL on failure.
/// Callers reuse it through wxauth_hmac_sha256_oneshot (which duplicates it), so the
/// algorithm fetch and key schedule happen once per key, not once per MAC.
static inline EVP_MAC_CTX *wxauth_hmac_sha256_keyed_new(const unsigned char *key, size_t key_len) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (ctx == NULL) return NULL;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// MAC of `data` under the prepared context `keyed` (left untouched). Returns 1 on success.
static inline int wxauth_hmac_sha256_oneshot(const EVP_MAC_CTX *keyed, const unsigned char *data, size_t data_len,
                                             unsigned char out[32]) {
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(keyed);
    if (ctx == NULL) return 0;
    size_t out_len = 0;
    int ok = EVP_MAC_update(ctx, data, data_len) == 1 && EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32;
    EVP_MAC_CTX_free(ctx);
    return ok;
}
#endif
