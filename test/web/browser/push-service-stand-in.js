// Runs in the page before its scripts (addInitScript), after `window.standInSubscription`
// = { endpoint, keys } is set: stands in for the push service this Chromium lacks, handing
// out the test push receiver's subscription. Only the browser's PushManager is replaced.
let current = null;
window.unsubscribed = 0;
const s = window.standInSubscription;
const make = () => ({
  endpoint: s.endpoint,
  expirationTime: null,
  toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: s.keys }),
  unsubscribe: async () => {
    current = null;
    window.unsubscribed += 1;
    return true;
  },
});
PushManager.prototype.subscribe = async function () {
  current = make();
  return current;
};
PushManager.prototype.getSubscription = async function () {
  return current;
};
