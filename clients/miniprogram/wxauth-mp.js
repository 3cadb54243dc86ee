'use strict';
/**
 * wxauth for the mini program side (tutorial steps 1, 2, 5 and 7).
 *
 *   1. wx.login() -> a one-time code
 *   2. wx.request POST {code} to the app backend's login URL -> {token, expiresAt}
 *   5. wx.setStorageSync('wxauth:<appId>:token', token); later requests carry "Authorization: Bearer <token>"
 *   7. when the backend answers 401 {"error": "invalid_token" | "token_expired" | "token_revoked" | "missing_token"},
 *      log in again (one login for all waiting requests) and replay the request once.
 *
 * Usage (app.js):
 *   var wxauth = require('./wxauth-mp.js');
 *   var auth = wxauth.createAuth({ appId: 'wx1234567890abcdef', baseUrl: 'https://api.example.com',
 *                                  loginUrl: '/login' });
 *   auth.request({ url: '/me' }).then(function (res) { console.log(res.statusCode, res.data); });
 *
 * request() resolves with the wx.request result ({statusCode, data, header}) for every HTTP status except an
 * authentication failure that survives the one login + replay; it rejects with an Error whose `code` is
 * 'login_failed' (wx.login or the login URL failed), 'session_rejected' (401 even right after a fresh login) or
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

/** The machine-readable reason of a 401 the client should react to, or null. */
function sessionFailure(res) {
  if (!res || res.statusCode !== 401) return null;
  var body = parseBody(res.data);
  var reason = body && typeof body === 'object' ? body.error : null;
  return typeof reason === 'string' && SESSION_REASONS[reason] ? reason : null;
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
  var loginInFlight = null;

  function resolveUrl(url) {
    return /^https?:\/\//.test(url) || !baseUrl ? url : baseUrl + (url.charAt(0) === '/' ? '' : '/') + url;
  }

  function getToken() {
    var token = api.getStorageSync(keys.token);
    return typeof token === 'string' && token ? token : null;
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
      data: { code: code },
      header: { 'content-type': 'application/json' }
    }).then(function (res) {
      var body = parseBody(res.data);
      if (res.statusCode === 200 && body && typeof body.token === 'string' && body.token) {
        saveSession(body.token, body.expiresAt);
        return body.token;
      }
      var reason = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : 'login_failed';
      throw makeError('login_failed', 'login URL answered ' + res.statusCode + ' ' + reason, {
        stage: 'backend',
        statusCode: res.statusCode,
        reason: reason,
        errcode: body && body.errcode,
        retryAfterMs: body && body.retryAfterMs
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

  function withAuth(opts, token) {
    var header = {};
    var src = opts.header || {};
    for (var k in src) {
      if (Object.prototype.hasOwnProperty.call(src, k) && k.toLowerCase() !== 'authorization') header[k] = src[k];
    }
    header.Authorization = 'Bearer ' + token;
    var out = {};
    for (var j in opts) {
      if (Object.prototype.hasOwnProperty.call(opts, j)) out[j] = opts[j];
    }
    out.header = header;
    return out;
  }

  /**
   * wx.request with the session token attached. Logs in first when there is no token; on a 401 with a session
   * reason, logs in again (or takes the token a concurrent login just stored) and replays the request once.
   */
  function request(opts) {
    var stored = getToken();
    // A token this call just got from a login is not worth another login when it is refused.
    var first = stored ? Promise.resolve({ token: stored, fresh: false }) : login().then(function (t) {
      return { token: t, fresh: true };
    });
    return first.then(function (t1) {
      return wxRequest(withAuth(opts, t1.token)).then(function (res) {
        var reason = sessionFailure(res);
        if (!reason) return res;
        if (t1.fresh) return rejectFresh(t1.token, reason, res);
        return renew(t1.token).then(function (t2) {
          return wxRequest(withAuth(opts, t2)).then(function (res2) {
            var reason2 = sessionFailure(res2);
            return reason2 ? rejectFresh(t2, reason2, res2) : res2;
          });
        });
      });
    });
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
