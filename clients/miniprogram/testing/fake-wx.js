'use strict';
// A fake `wx` that records every call. Callbacks fire asynchronously, as in the real base library.
//   createFakeWx({ login: () => Promise<code>, request: (opts) => Promise<{statusCode, data, header}>,
//                  checkSession: () => Promise<boolean> (optional; default: the session is current) })
// `request` handlers get the options the client passed (url, method, data, header).

function createFakeWx(handlers) {
  var storage = (handlers && handlers.storage) || new Map();
  var calls = [];
  var wx = {
    calls: calls,
    storage: storage,
    count: function (api) {
      return calls.filter(function (c) { return c.api === api; }).length;
    },
    requests: function (filter) {
      return calls.filter(function (c) { return c.api === 'request' && (!filter || filter(c.options)); });
    },
    login: function (options) {
      calls.push({ api: 'login', options: options });
      Promise.resolve()
        .then(function () { return handlers.login(); })
        .then(function (code) { options.success && options.success({ code: code, errMsg: 'login:ok' }); },
          function (err) { options.fail && options.fail({ errMsg: 'login:fail ' + (err && err.message) }); });
    },
    request: function (options) {
      calls.push({ api: 'request', options: options });
      Promise.resolve()
        .then(function () { return handlers.request(options); })
        .then(function (res) { options.success && options.success(res); },
          function (err) { options.fail && options.fail({ errMsg: 'request:fail ' + (err && err.message) }); });
    },
    checkSession: function (options) {
      calls.push({ api: 'checkSession', options: options });
      Promise.resolve()
        .then(function () { return handlers.checkSession ? handlers.checkSession() : true; })
        .then(function (current) {
          if (current) options.success && options.success({ errMsg: 'checkSession:ok' });
          else options.fail && options.fail({ errMsg: 'checkSession:fail session_key expired' });
        });
    },
    setStorageSync: function (key, value) {
      calls.push({ api: 'setStorageSync', key: key });
      storage.set(key, value);
    },
    getStorageSync: function (key) {
      calls.push({ api: 'getStorageSync', key: key });
      return storage.has(key) ? storage.get(key) : '';
    },
    removeStorageSync: function (key) {
      calls.push({ api: 'removeStorageSync', key: key });
      storage.delete(key);
    }
  };
  return wx;
}

function bearer(options) {
  var h = options.header || {};
  var v = h.Authorization || h.authorization || '';
  return v.indexOf('Bearer ') === 0 ? v.slice(7) : null;
}

function delay(ms) {
  return new Promise(function (r) { setTimeout(r, ms); });
}

module.exports = { createFakeWx: createFakeWx, bearer: bearer, delay: delay };
