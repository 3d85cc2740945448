// Runs in the page before its scripts (addInitScript): records each pushManager.subscribe()
// call and passes it on to the browser's own subscribe. A spy, not a stand-in.
const original = PushManager.prototype.subscribe;
window.subscribeCalls = [];
PushManager.prototype.subscribe = function (options) {
  const key = options && options.applicationServerKey;
  window.subscribeCalls.push({ userVisibleOnly: options && options.userVisibleOnly, key: key instanceof Uint8Array ? Array.from(key) : null });
  return original.call(this, options);
};
