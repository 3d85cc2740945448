// @ts-check
/**
 * The token of an emailed link, from the URL's fragment (`#token=...`), which browsers
 * never send to the server. It is then taken out of the address bar, so it is not left
 * in the history or copied along with the address.
 * @returns {string | null}
 */
export function takeLinkToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return token;
}
