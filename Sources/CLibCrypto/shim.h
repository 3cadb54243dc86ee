#ifndef WXAUTH_CLIBCRYPTO_SHIM_H
#define WXAUTH_CLIBCRYPTO_SHIM_H
// The system OpenSSL (libcrypto, Debian libssl-dev). Only the WXAuthCrypto module imports this.
// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but EVP allocates on every context copy;
// the HMAC precomputation below needs plain, copyable SHA-256 states.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/err.h>
#include <stdint.h>

/// An HMAC-SHA256 key prepared once: the SHA-256 states after absorbing the key XOR ipad and XOR opad
/// (RFC 2104 section 4's precomputation). Every MAC copies these two small structs and hashes only the message:
/// no algorithm fetch, no re-keying and no allocation per MAC.
typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} wxauth_hmac_sha256_key;

/// Prepares `prepared` for `key` (any length; keys over 64 bytes are hashed first, as HMAC requires). 1 on success.
static inline int wxauth_hmac_sha256_prepare(wxauth_hmac_sha256_key *prepared, const unsigned char *key,
                                             size_t key_len) {
    unsigned char block[64];
    unsigned char pad[64];
    memset(block, 0, sizeof block);
    if (key_len > sizeof block) {
        if (SHA256(key, key_len, block) == NULL) return 0;
    } else if (key_len > 0) {
        memcpy(block, key, key_len);
    }
    int ok = 1;
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    ok = ok && SHA256_Init(&prepared->inner) == 1 && SHA256_Update(&prepared->inner, pad, sizeof pad) == 1;
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    ok = ok && SHA256_Init(&prepared->outer) == 1 && SHA256_Update(&prepared->outer, pad, sizeof pad) == 1;
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}

/// HMAC-SHA256 of `data` under `prepared` (left untouched, so many threads may use it at once). 1 on success.
static inline int wxauth_hmac_sha256(const wxauth_hmac_sha256_key *prepared, const unsigned char *data,
                                     size_t data_len, unsigned char out[32]) {
    SHA256_CTX ctx = prepared->inner;
    unsigned char inner_hash[32];
    int ok = SHA256_Update(&ctx, data, data_len) == 1 && SHA256_Final(inner_hash, &ctx) == 1;
    ctx = prepared->outer;
    ok = ok && SHA256_Update(&ctx, inner_hash, sizeof inner_hash) == 1 && SHA256_Final(out, &ctx) == 1;
    OPENSSL_cleanse(&ctx, sizeof ctx);
    OPENSSL_cleanse(inner_hash, sizeof inner_hash);
    return ok;
}

/// A streaming HMAC-SHA256 context (EVP_MAC) keyed with `key`, for MACs over whole files; NULL on failure.
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

/// An AES-256-GCM context keyed with `key` (32 bytes) for sealing (`encrypt` = 1) or opening (0); NULL on failure.
/// The key schedule happens once; each message then only sets its 12-byte IV.
static inline EVP_CIPHER_CTX *wxauth_aes256gcm_new(const unsigned char key[32], int encrypt) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return NULL;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, encrypt) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// Encrypts `in` into `out` (same length) under a 12-byte IV and writes the 16-byte tag. Returns 1 on success.
static inline int wxauth_aes256gcm_seal(EVP_CIPHER_CTX *ctx, const unsigned char iv[12], const unsigned char *aad,
                                        size_t aad_len, const unsigned char *in, size_t in_len, unsigned char *out,
                                        unsigned char tag[16]) {
    int len = 0;
    if (aad_len > INT32_MAX || in_len > INT32_MAX) return 0;
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 1) != 1) return 0;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1) return 0;
    int written = 0;
    if (in_len > 0) {
        if (EVP_EncryptUpdate(ctx, out, &len, in, (int)in_len) != 1) return 0;
        written = len;
    }
    unsigned char scratch[16];
    if (EVP_EncryptFinal_ex(ctx, in_len > 0 ? out + written : scratch, &len) != 1) return 0;
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
}

/// Checks the tag and decrypts `in` into `out` (same length). Returns 1 only when the tag matches; on 0 the caller
/// must discard `out`.
static inline int wxauth_aes256gcm_open(EVP_CIPHER_CTX *ctx, const unsigned char iv[12], const unsigned char *aad,
                                        size_t aad_len, const unsigned char *in, size_t in_len, const unsigned char tag[16],
                                        unsigned char *out) {
    int len = 0;
    if (aad_len > INT32_MAX || in_len > INT32_MAX) return 0;
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 0) != 1) return 0;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1) return 0;
    int written = 0;
    if (in_len > 0) {
        if (EVP_DecryptUpdate(ctx, out, &len, in, (int)in_len) != 1) return 0;
        written = len;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) != 1) return 0;
    unsigned char scratch[16];
    return EVP_DecryptFinal_ex(ctx, in_len > 0 ? out + written : scratch, &len) == 1;
}

/// Finishes a streaming HMAC-SHA256 into `out` (32 bytes). Returns 1 on success.
static inline int wxauth_hmac_sha256_stream_final(EVP_MAC_CTX *ctx, unsigned char out[32]) {
    size_t out_len = 0;
    return EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32;
}
/// AES-128-CBC over whole blocks, no padding (PKCS#7 is added and checked strictly by the caller, so a bad pad
/// never depends on OpenSSL's leniency). `in_len` must be a multiple of 16; `out` holds `in_len` bytes.
/// `encrypt` = 1 encrypts, 0 decrypts. Returns 1 on success.
static inline int wxauth_aes128cbc_blocks(const unsigned char key[16], const unsigned char iv[16], int encrypt,
                                          const unsigned char *in, size_t in_len, unsigned char *out) {
    if (in_len % 16 != 0 || in_len > INT32_MAX) return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return 0;
    int ok = EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, encrypt) == 1
          && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
    int len = 0, written = 0;
    if (ok && in_len > 0) {
        ok = EVP_CipherUpdate(ctx, out, &len, in, (int)in_len) == 1;
        written = len;
    }
    unsigned char scratch[16];
    if (ok) ok = EVP_CipherFinal_ex(ctx, in_len > 0 ? out + written : scratch, &len) == 1 && (size_t)(written + len) == in_len;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/// SHA-1 of `data` into `out` (20 bytes). Only for WeChat's rawData signature, which is defined as SHA-1.
static inline int wxauth_sha1(const unsigned char *data, size_t data_len, unsigned char out[20]) {
    unsigned int out_len = 0;
    return EVP_Digest(data, data_len, out, &out_len, EVP_sha1(), NULL) == 1 && out_len == 20;
}
#endif
