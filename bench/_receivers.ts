/**
 * The delivery bench's receivers in a process of their own: the real SMTP server and the
 * push endpoint that the tests use. Run apart from the sender so that their CPU is not
 * charged to it; each message is counted and timed here, at the receiver, when it is
 * accepted. While the bench runs they do what the services they stand for do: the push
 * endpoint checks every VAPID JWT and keeps the body (a push service cannot read it; the
 * browser decrypts), the SMTP server keeps the bytes. `checks` then decrypts every push
 * body and parses every email, so nothing goes unverified; only when it happens moves.
 *
 * The parent talks over IPC: { id, op, ... } in, { id, result } or { id, error } out.
 *   start { vapidPublicKey }      -> { smtpUrl, pushOrigin }
 *   subscribe { n }               -> TestSubscription[] (keys are made here, as a browser would)
 *   counts                        -> { push, email, pushRequests, cpuMs }
 *   accepted { channel, from }    -> [key, receivedAt][] from index `from` (push: subscription id, email: RCPT TO)
 *   senders { email, push }       -> [sender, receivedAt][] of the messages accepted from those indexes on: who sent
 *                                    each (email: MAIL FROM, push: the VAPID JWT's subject), for a bench whose
 *                                    processes each sign with their own
 *   checks                        -> { invalidPush, decrypted, invalidEmail, parsed } (after decrypting and parsing all)
 *   identified                    -> { email: [to, receivedAt, Message-ID][], push: [subscription id, receivedAt, Topic][] }
 *                                    (after checks: what says which alert or digest each accepted message was)
 *   close
 */
import { startPushReceiver, type PushReceiver } from '../dev/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../dev/smtp-receiver.js';

type Request = { id: number; op: string; [k: string]: unknown };

let push: PushReceiver | undefined;
let smtp: SmtpReceiver | undefined;
// delivered() filters every request each call: keep our own list of accepted pushes
const pushAccepted: [string, number][] = [];
const pushAcceptedFrom: string[] = [];
let pushSeen = 0;

function syncPush(): void {
  const reqs = push!.requests;
  for (; pushSeen < reqs.length; pushSeen++) {
    const r = reqs[pushSeen]!;
    if (r.status === 201) {
      pushAccepted.push([r.subscriptionId, r.receivedAt]);
      pushAcceptedFrom.push(r.vapid.sub ?? '');
    }
  }
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'start': {
      smtp = await startSmtpReceiver({ parse: 'later' });
      push = await startPushReceiver(String(req.vapidPublicKey), { decrypt: 'later' });
      return { smtpUrl: smtp.url, pushOrigin: push.origin };
    }
    case 'subscribe':
      return Array.from({ length: Number(req.n) }, () => push!.subscribe());
    case 'counts': {
      syncPush();
      const cpu = process.cpuUsage();
      return { push: pushAccepted.length, email: smtp!.arrivals.length, pushRequests: push!.requests.length, cpuMs: (cpu.user + cpu.system) / 1000 };
    }
    case 'accepted': {
      const from = Number(req.from);
      if (req.channel === 'push') {
        syncPush();
        return pushAccepted.slice(from);
      }
      return smtp!.arrivals.slice(from).map((m) => [m.envelopeTo[0]!, m.receivedAt]);
    }
    case 'senders': {
      syncPush();
      const email = smtp!.arrivals.slice(Number(req.email)).map((m): [string, number] => [m.mailFrom, m.receivedAt]);
      const pushed = pushAccepted.slice(Number(req.push)).map(([, at], i): [string, number] => [pushAcceptedFrom[Number(req.push) + i]!, at]);
      return [...email, ...pushed];
    }
    case 'checks': {
      const decrypted = push!.decryptPending();
      const parsed = await smtp!.parsePending();
      // every email as an alert is: addressed as its envelope says, both bodies with the hold
      // link, and the one-click unsubscribe headers
      const invalidEmail = smtp!.messages.filter((m) => {
        const p = m.parsed;
        return (
          p.to === undefined ||
          ![p.to].flat().some((a) => a.value.some((v) => v.address === m.envelopeTo[0])) ||
          // a single names its slot; a digest of several counts them
          !/^(Test slot free:|\d+ test slots free near you)/.test(p.subject ?? '') ||
          !p.text?.includes('/slots/') ||
          !(typeof p.html === 'string' && p.html.includes('/slots/')) ||
          // mailparser folds the List-* headers into one 'list' entry: read them in the bytes
          !/^List-Unsubscribe: <[^>]+\/unsubscribe\/[0-9a-f]+>/im.test(m.raw.toString('latin1')) ||
          !/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/im.test(m.raw.toString('latin1'))
        );
      }).length;
      return { invalidPush: push!.requests.filter((r) => !r.vapid.valid || r.payload === null || typeof r.payload !== 'object').length, decrypted, invalidEmail, parsed };
    }
    case 'identified':
      syncPush();
      return {
        email: smtp!.messages.map((m) => [m.envelopeTo[0]!, m.receivedAt, String(m.parsed.messageId ?? '')]),
        push: push!.requests.filter((r) => r.status === 201).map((r) => [r.subscriptionId, r.receivedAt, r.topic ?? '']),
      };
    case 'close':
      await push?.close();
      await smtp?.close();
      setImmediate(() => process.disconnect());
      return null;
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    (result) => process.send!({ id: req.id, result }),
    (err: unknown) => process.send!({ id: req.id, error: (err as Error).message }),
  );
});
