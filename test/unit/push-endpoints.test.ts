/** The rules for where a push may go, without the HTTP app: the host allow-list and the sender's lookup. */
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { endpointProblem, NonPublicAddressError, publicOnlyLookup } from '../../src/watches/push-endpoints.js';

const hosts = ['*.googleapis.com', '*.push.apple.com', 'updates.push.services.mozilla.com', '*.notify.windows.com'];
const policy = { allowLocal: false, hosts };

describe('PUSH_ENDPOINT_HOSTS', () => {
  it('lets through the named push services and their subdomains, and nothing else', () => {
    for (const ok of ['https://fcm.googleapis.com/fcm/send/x', 'https://FCM.googleapis.com./x', 'https://web.push.apple.com/x', 'https://updates.push.services.mozilla.com/wpush/v2/x', 'https://wns2-par02p.notify.windows.com/w/x']) {
      expect(endpointProblem(ok, policy), ok).toBeNull();
    }
    for (const refused of ['https://googleapis.com/x', 'https://evilgoogleapis.com/x', 'https://fcm.googleapis.com.evil.example/x', 'https://push.services.mozilla.com/x', 'https://142.250.1.1/x']) {
      expect(endpointProblem(refused, policy), refused).toBe('endpoint host is not a push service this server sends to');
    }
  });

  it('does not lift the other rules for an allowed host', () => {
    expect(endpointProblem('http://fcm.googleapis.com/x', policy)).toMatch(/https/);
    expect(endpointProblem('https://fcm.googleapis.com:8443/x', policy)).toMatch(/port/);
    expect(endpointProblem('https://a:b@fcm.googleapis.com/x', policy)).toMatch(/user name or password/);
  });
});

describe("the sender's lookup", () => {
  const answering = (addresses: LookupAddress[]) => publicOnlyLookup(async () => addresses);
  const call = (lookup: ReturnType<typeof publicOnlyLookup>, options: object) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      lookup('push.example', options, (err, address, family) => resolve({ err, address, family })),
    );
  const v4 = { address: '93.184.215.14', family: 4 };
  const v6 = { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 };

  it('answers as net.connect asks: every address, or one of the family asked for', async () => {
    expect(await call(answering([v4, v6]), { all: true })).toMatchObject({ err: null, address: [v4, v6] });
    expect(await call(answering([v4, v6]), {})).toMatchObject({ err: null, address: v4.address, family: 4 });
    expect(await call(answering([v4, v6]), { family: 6 })).toMatchObject({ err: null, address: v6.address, family: 6 });
    expect((await call(answering([v4]), { family: 6 })).err?.code).toBe('ENOTFOUND');
  });

  it('fails the connection when any address is not public, even beside a public one', async () => {
    for (const bad of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:192.168.0.1', 'fd00::1']) {
      const { err } = await call(answering([v4, { address: bad, family: bad.includes(':') ? 6 : 4 }]), { all: true });
      expect(err, bad).toBeInstanceOf(NonPublicAddressError);
      expect(err!.message).toContain(`(${bad})`);
    }
  });

  it('passes a resolver error on as it is (a passing failure, retried)', async () => {
    const lookup = publicOnlyLookup(async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN push.example'), { code: 'EAI_AGAIN' });
    });
    const { err } = await call(lookup, { all: true });
    expect(err?.code).toBe('EAI_AGAIN');
    expect(err).not.toBeInstanceOf(NonPublicAddressError);
  });
});
