/** Checks on a browser's PushSubscription that the table's format checks cannot express. */

/** Why `keys` cannot be used to encrypt a push message, or null when they can (RFC 8291). */
export function subscriptionKeysProblem(p256dh: string, auth: string): string | null {
  const point = Buffer.from(p256dh, 'base64url');
  // an uncompressed P-256 point: 0x04 then 32 bytes of x and 32 of y
  if (point.length !== 65 || point[0] !== 0x04) return 'keys.p256dh must be a base64url uncompressed P-256 public key (65 bytes)';
  if (Buffer.from(auth, 'base64url').length !== 16) return 'keys.auth must be a base64url 16-byte secret';
  return null;
}

/** Why `endpoint` is not a push service address we will post to, or null when it is. */
export function endpointProblem(endpoint: string, allowHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be a URL';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && allowHttp) return null;
  return allowHttp ? 'endpoint must be an http or https URL' : 'endpoint must be an https URL';
}
