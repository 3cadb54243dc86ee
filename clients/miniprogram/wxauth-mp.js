'use strict';
/**
 * wxauth for the mini program side (tutorial steps 1, 2, 5 and 7).
 *
 *   1. wx.login() -> a one-time code
 *   2. wx.request POST {code, app_id} to the login URL -> {token, expiresAt} (an app backend) or
 *      {token, expires_at} (wxauthd's HTTP edge, protocol/HTTP.md: `loginUrl: '/login'` behind deploy/nginx)
 *   5. wx.setStorageSync('wxauth:<appId>:token', token); later requests carry "Authorization: Bearer <token>"
 *   7. when the backend answers 401 {"error": "invalid_token" | "token_expired" | "token_revoked" | "missing_token"},
 *      or the edge / a gateway in front of it answers 401 with `X-WXAuth-Reason: expired | revoked | invalid` (or
 *      {"error": {"status": "TOKEN_EXPIRED", ...}}), log in again (one login for all waiting requests) and replay the request once, when it is safe to repeat.
 *
 * Keeping users logged in:
 *   - with `refreshUrl`, the token is refreshed ahead of its `expiresAt` (within `refreshAheadMs`, default 5 min):
 *     one refresh in flight however many requests wait; they all go out with the new token. A refresh whose answer
 *     was lost is never sent again with the same token (REFRESH changed state): the old token is used until the
 *     backend refuses it, and then the user logs in again (wx.login is silent).
 *   - `request({ userData: true, ... })` and `ensureSessionKey()` call wx.checkSession first and log in again when it
 *     fails, so the backend's session holds the session_key WeChat encrypts with. Fetch the encrypted data after
 *     that (or pass `fetchUserData: function () { return promise of fields }`, merged into `data` after the check).
 *   - a request that changes state (any method but GET, HEAD, OPTIONS) is replayed after a 401 only when it
 *     carries an idempotency marker (`idempotencyKey`, sent as the `Idempotency-Key` header, the same on the
 *     replay); otherwise the session is renewed and the request rejects with code 'not_replayed' for the app to
 *     decide. Network failures are never retried.
 *
 * Usage (app.js):
 *   var wxauth = require('./wxauth-mp.js');
 *   var auth = wxauth.createAuth({ appId: 'wx1234567890abcdef', baseUrl: 'https://api.example.com',
 *                                  loginUrl: '/login' });
 *   auth.request({ url: '/me' }).then(function (res) { console.log(res.statusCode, res.data); });
 *
 * request() resolves with the wx.request result ({statusCode, data, header}) for every HTTP status except an
 * authentication failure that survives the one login + replay; it rejects with an Error whose `code` is
 * 'login_failed' (wx.login or the login URL failed), 'session_rejected' (401 even right after a fresh login),
 * 'not_replayed' (401, the session was renewed, and the request changes state without an idempotency marker) or
 * 'network' (wx.request failed). Written in ES5 + Promise so it runs on every base library without compilation.
 */

var SESSION_REASONS = {
  invalid_token: true,
  token_expired: true,
  token_revoked: true,
  missing_token: true
};

function makeError(code, message, props) {
  var err = new Error(message);
  err.name = 'WxAuthError';
  err.code = code;
  if (props) {
    for (var k in props) {
      if (Object.prototype.hasOwnProperty.call(props, k)) err[k] = props[k];
    }
  }
  return err;
}

function parseBody(data) {
  if (typeof data === 'string' && data) {
    try {
      return JSON.parse(data);
    } catch (e) {
      return data;
    }
  }
  return data;
}

/** wxauthd's X-WXAuth-Reason values and HTTP-edge status names, as the reasons above. */
var EDGE_REASONS = {
  expired: 'token_expired',
  revoked: 'token_revoked',
  invalid: 'invalid_token',
  TOKEN_EXPIRED: 'token_expired',
  TOKEN_REVOKED: 'token_revoked',
  INVALID_TOKEN: 'invalid_token'
};

function headerValue(res, name) {
  var header = (res && res.header) || {};
  for (var k in header) {
    if (Object.prototype.hasOwnProperty.call(header, k) && k.toLowerCase() === name) return header[k];
  }
  return null;
}

/**
 * The machine-readable reason of a 401 the client should react to, or null: a backend's {"error": "<reason>"},
 * the HTTP edge's {"error": {"status": "TOKEN_EXPIRED"}}, or the X-WXAuth-Reason header (a gateway's bodiless 401).
 */
function sessionFailure(res) {
  if (!res || res.statusCode !== 401) return null;
  var body = parseBody(res.data);
  var reason = body && typeof body === 'object' ? body.error : null;
  if (typeof reason === 'string' && SESSION_REASONS[reason]) return reason;
  if (reason && typeof reason === 'object' && typeof reason.status === 'string' &&
      Object.prototype.hasOwnProperty.call(EDGE_REASONS, reason.status)) {
    return EDGE_REASONS[reason.status];
  }
  var header = headerValue(res, 'x-wxauth-reason');
  return typeof header === 'string' && Object.prototype.hasOwnProperty.call(EDGE_REASONS, header) ? EDGE_REASONS[header] : null;
}

/** A login or refresh answer's expiry: `expiresAt` (backends) or `expires_at` (the HTTP edge), unix ms. */
function expiryOf(body) {
  if (typeof body.expiresAt === 'number') return body.expiresAt;
  return typeof body.expires_at === 'number' ? body.expires_at : 0;
}

function storageKeys(appId) {
  var prefix = 'wxauth:' + appId + ':';
  return { token: prefix + 'token', expiresAt: prefix + 'expiresAt' };
}

function createAuth(options) {
  options = options || {};
  /* global wx */
  var api = options.wx || (typeof wx !== 'undefined' ? wx : null);
  if (!api) throw new Error('wxauth: no wx object (pass options.wx)');
  if (!options.appId) throw new Error('wxauth: options.appId is required (it namespaces the storage keys)');
  if (!options.loginUrl) throw new Error('wxauth: options.loginUrl is required');
  var baseUrl = (options.baseUrl || '').replace(/\/+$/, '');
  var keys = storageKeys(options.appId);
  var loginTimeout = options.loginTimeout || 10000;
  var requestTimeout = options.timeout || 0;
  var refreshAheadMs = typeof options.refreshAheadMs === 'number' ? options.refreshAheadMs : 5 * 60 * 1000;
  var now = options.now || function () { return Date.now(); };
  var loginInFlight = null;
  var refreshInFlight = null;
  var checkInFlight = null;
  // A token not to refresh again: its refresh failed with an unknown outcome, or did not move expiresAt.
  var noRefreshFor = null;

  function resolveUrl(url) {
    return /^https?:\/\//.test(url) || !baseUrl ? url : baseUrl + (url.charAt(0) === '/' ? '' : '/') + url;
  }

  function getToken() {
    var token = api.getStorageSync(keys.token);
    return typeof token === 'string' && token ? token : null;
  }

  function getExpiresAt() {
    var value = api.getStorageSync(keys.expiresAt);
    return typeof value === 'number' ? value : 0;
  }

  function saveSession(token, expiresAt) {
    api.setStorageSync(keys.token, token);
    api.setStorageSync(keys.expiresAt, typeof expiresAt === 'number' ? expiresAt : 0);
  }

  function clearSession() {
    api.removeStorageSync(keys.token);
    api.removeStorageSync(keys.expiresAt);
  }

  function wxLogin() {
    return new Promise(function (resolve, reject) {
      api.login({
        timeout: loginTimeout,
        success: function (res) {
          if (res && res.code) resolve(res.code);
          else reject(makeError('login_failed', 'wx.login returned no code: ' + (res && res.errMsg), { stage: 'wx.login' }));
        },
        fail: function (err) {
          reject(makeError('login_failed', 'wx.login failed: ' + (err && err.errMsg), { stage: 'wx.login' }));
        }
      });
    });
  }

  function wxRequest(opts) {
    return new Promise(function (resolve, reject) {
      var call = {
        url: resolveUrl(opts.url),
        method: opts.method || 'GET',
        header: opts.header || {},
        success: function (res) {
          resolve(res);
        },
        fail: function (err) {
          reject(makeError('network', 'wx.request failed: ' + (err && err.errMsg), { errMsg: err && err.errMsg }));
        }
      };
      if (opts.data !== undefined) call.data = opts.data;
      if (opts.timeout || requestTimeout) call.timeout = opts.timeout || requestTimeout;
      if (opts.dataType) call.dataType = opts.dataType;
      api.request(call);
    });
  }

  function exchangeCode(code) {
    return wxRequest({
      url: options.loginUrl,
      method: 'POST',
      data: { code: code, app_id: options.appId },
      header: { 'content-type': 'application/json' }
    }).then(function (res) {
      var body = parseBody(res.data);
      if (res.statusCode === 200 && body && typeof body.token === 'string' && body.token) {
        saveSession(body.token, expiryOf(body));
        return body.token;
      }
      var error = body && typeof body === 'object' ? body.error : null;
      var edge = error && typeof error === 'object';
      var reason = typeof error === 'string' ? error : edge && typeof error.status === 'string' ? error.status.toLowerCase() : 'login_failed';
      throw makeError('login_failed', 'login URL answered ' + res.statusCode + ' ' + reason, {
        stage: 'backend',
        statusCode: res.statusCode,
        reason: reason,
        errcode: edge ? error.errcode : body && body.errcode,
        retryAfterMs: edge ? error.retry_after_ms : body && body.retryAfterMs
      });
    });
  }

  /** Logs in (wx.login + the login URL). Concurrent callers share the one login in flight. */
  function login() {
    if (loginInFlight) return loginInFlight;
    var attempt = wxLogin().then(exchangeCode);
    loginInFlight = attempt;
    var done = function () {
      if (loginInFlight === attempt) loginInFlight = null;
    };
    attempt.then(done, done);
    return attempt;
  }

  /** A token to use after `failedToken` was refused: a newer stored one, the login in flight, or a new login. */
  function renew(failedToken) {
    var current = getToken();
    if (current && current !== failedToken) return Promise.resolve(current);
    if (current === failedToken) clearSession();
    return login();
  }

  /**
   * Refreshes `token` at the refresh URL (one refresh in flight for everyone). Resolves to the token to use: the new
   * one, the old one when the refresh failed without refusing the session (never sent again), or a new login's
   * when the backend refused the session.
   */
  function refresh(token) {
    if (refreshInFlight) return refreshInFlight;
    var previousExpiry = getExpiresAt();
    var attempt = wxRequest({
      url: options.refreshUrl,
      method: 'POST',
      header: { 'content-type': 'application/json', Authorization: 'Bearer ' + token }
    }).then(function (res) {
      var body = parseBody(res.data);
      if (res.statusCode === 200 && body && typeof body.token === 'string' && body.token) {
        if (getToken() !== token) return getToken() || body.token; // a login replaced it meanwhile
        saveSession(body.token, expiryOf(body));
        if (!(expiryOf(body) > previousExpiry)) {
          noRefreshFor = body.token; // the absolute deadline is near: refreshing again would not help
        }
        return body.token;
      }
      if (sessionFailure(res)) return renew(token);
      noRefreshFor = token; // refused for another reason: keep the token until the backend refuses it
      return token;
    }, function () {
      noRefreshFor = token; // the outcome is unknown: a REFRESH is never sent twice
      return token;
    });
    refreshInFlight = attempt;
    var done = function () {
      if (refreshInFlight === attempt) refreshInFlight = null;
    };
    attempt.then(done, done);
    return attempt;
  }

  /** The token for the next request: `{token, fresh}` (fresh: just issued, not worth another login if refused). */
  function tokenForRequest() {
    var stored = getToken();
    if (!stored) {
      return login().then(function (t) { return { token: t, fresh: true }; });
    }
    var expiresAt = getExpiresAt();
    if (!options.refreshUrl || !expiresAt || noRefreshFor === stored) return Promise.resolve({ token: stored, fresh: false });
    var remaining = expiresAt - now();
    if (remaining <= 0) {
      // Past its expiry: the backend would answer token_expired. Log in straight away.
      return renew(stored).then(function (t) { return { token: t, fresh: true }; });
    }
    if (remaining > refreshAheadMs) return Promise.resolve({ token: stored, fresh: false });
    return refresh(stored).then(function (t) { return { token: t, fresh: t !== stored }; });
  }

  /**
   * Makes sure the backend's session holds the session_key WeChat uses now: wx.checkSession, and a new login when it
   * fails (one check in flight for everyone). Encrypted user data must be fetched after this resolves.
   */
  function ensureSessionKey() {
    if (checkInFlight) return checkInFlight;
    var attempt = new Promise(function (resolve) {
      if (typeof api.checkSession !== 'function') return resolve(false);
      api.checkSession({
        success: function () { resolve(true); },
        fail: function () { resolve(false); }
      });
    }).then(function (current) {
      if (current && getToken()) return getToken();
      return renew(getToken());
    });
    checkInFlight = attempt;
    var done = function () {
      if (checkInFlight === attempt) checkInFlight = null;
    };
    attempt.then(done, done);
    return attempt;
  }

  /** Whether a request may be sent a second time: it changes nothing, or it carries an idempotency marker. */
  function mayRepeat(opts) {
    var method = (opts.method || 'GET').toUpperCase();
    return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || !!opts.idempotencyKey;
  }

  function withAuth(opts, token) {
    var header = {};
    var src = opts.header || {};
    for (var k in src) {
      if (Object.prototype.hasOwnProperty.call(src, k) && k.toLowerCase() !== 'authorization') header[k] = src[k];
    }
    header.Authorization = 'Bearer ' + token;
    if (opts.idempotencyKey) header['Idempotency-Key'] = String(opts.idempotencyKey);
    var out = {};
    for (var j in opts) {
      if (Object.prototype.hasOwnProperty.call(opts, j)) out[j] = opts[j];
    }
    out.header = header;
    return out;
  }

  /**
   * wx.request with the session token attached. Logs in first when there is no token and refreshes it ahead of its
   * expiry (with `refreshUrl`); with `userData`, checks the session_key first (`ensureSessionKey`). On a 401 with
   * a session reason, logs in again (or takes the token a concurrent login just stored) and replays the request
   * once, when it is safe to repeat (`mayRepeat`).
   */
  function request(opts) {
    if (opts.idempotencyKey === true) {
      opts = withFields(opts, { idempotencyKey: newIdempotencyKey() });
    }
    var ready = opts.userData || opts.fetchUserData ? ensureSessionKey().then(function () {
      if (typeof opts.fetchUserData !== 'function') return opts;
      return Promise.resolve(opts.fetchUserData()).then(function (fields) {
        var data = {};
        var k;
        for (k in opts.data || {}) if (Object.prototype.hasOwnProperty.call(opts.data, k)) data[k] = opts.data[k];
        for (k in fields || {}) if (Object.prototype.hasOwnProperty.call(fields, k)) data[k] = fields[k];
        return withFields(opts, { data: data });
      });
    }) : Promise.resolve(opts);
    return ready.then(function (call) {
      return tokenForRequest().then(function (t1) {
        return send(call, t1);
      });
    });
  }

  function send(opts, t1) {
    return wxRequest(withAuth(opts, t1.token)).then(function (res) {
      var reason = sessionFailure(res);
      if (!reason) return res;
      if (t1.fresh) return rejectFresh(t1.token, reason, res);
      return renew(t1.token).then(function (t2) {
        if (!mayRepeat(opts)) {
          throw makeError('not_replayed', 'the session was renewed; the request changes state and has no ' +
            'idempotency marker, so it was not sent again', { reason: reason, statusCode: res.statusCode });
        }
        return wxRequest(withAuth(opts, t2)).then(function (res2) {
          var reason2 = sessionFailure(res2);
          return reason2 ? rejectFresh(t2, reason2, res2) : res2;
        });
      });
    });
  }

  function withFields(opts, fields) {
    var out = {};
    var k;
    for (k in opts) if (Object.prototype.hasOwnProperty.call(opts, k)) out[k] = opts[k];
    for (k in fields) if (Object.prototype.hasOwnProperty.call(fields, k)) out[k] = fields[k];
    return out;
  }

  function newIdempotencyKey() {
    var text = '';
    for (var i = 0; i < 4; i++) text += Math.floor(Math.random() * 0x100000000).toString(16);
    return now().toString(36) + '-' + text;
  }

  function rejectFresh(token, reason, res) {
    if (getToken() === token) clearSession();
    throw makeError('session_rejected', 'backend refused a fresh session: ' + reason, {
      reason: reason,
      statusCode: res.statusCode
    });
  }

  return {
    request: request,
    login: login,
    ensureSessionKey: ensureSessionKey,
    getToken: getToken,
    /** Forgets the stored session (the backend session ends at its idle timeout or via a logout endpoint). */
    logout: clearSession,
    storageKeys: keys
  };
}

module.exports = {
  createAuth: createAuth,
  storageKeys: storageKeys,
  sessionFailure: sessionFailure,
  SESSION_REASONS: SESSION_REASONS
};
