/**
 * The delivery bench's receivers in a process of their own: the real SMTP server (every
 * message parsed) and the push endpoint (every VAPID JWT checked, every body decrypted)
 * that the tests use. Run apart from the sender so that their CPU is not charged to it;
 * each message is still counted and timed here, at the receiver, when it is accepted.
 *
 * The parent talks over IPC: { id, op, ... } in, { id, result } or { id, error } out.
 *   start { vapidPublicKey }      -> { smtpUrl, pushOrigin }
 *   subscribe { n }               -> TestSubscription[] (keys are made here, as a browser would)
 *   counts                        -> { push, email, pushRequests, cpuMs }
 *   accepted { channel, from }    -> [key, receivedAt][] from index `from` (push: subscription id, email: RCPT TO)
 *   checks                        -> { invalidPush }
 *   close
 */
import { startPushReceiver, type PushReceiver } from '../test/helpers/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../test/helpers/smtp-receiver.js';

type Request = { id: number; op: string; [k: string]: unknown };

let push: PushReceiver | undefined;
let smtp: SmtpReceiver | undefined;
// delivered() filters every request each call: keep our own list of accepted pushes
const pushAccepted: [string, number][] = [];
let pushSeen = 0;

function syncPush(): void {
  const reqs = push!.requests;
  for (; pushSeen < reqs.length; pushSeen++) {
    const r = reqs[pushSeen]!;
    if (r.status === 201) pushAccepted.push([r.subscriptionId, r.receivedAt]);
  }
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'start': {
      smtp = await startSmtpReceiver();
      push = await startPushReceiver(String(req.vapidPublicKey));
      return { smtpUrl: smtp.url, pushOrigin: push.origin };
    }
    case 'subscribe':
      return Array.from({ length: Number(req.n) }, () => push!.subscribe());
    case 'counts': {
      syncPush();
      const cpu = process.cpuUsage();
      return { push: pushAccepted.length, email: smtp!.messages.length, pushRequests: push!.requests.length, cpuMs: (cpu.user + cpu.system) / 1000 };
    }
    case 'accepted': {
      const from = Number(req.from);
      if (req.channel === 'push') {
        syncPush();
        return pushAccepted.slice(from);
      }
      return smtp!.messages.slice(from).map((m) => [m.envelopeTo[0]!, m.receivedAt]);
    }
    case 'checks':
      return { invalidPush: push!.requests.filter((r) => !r.vapid.valid || r.payload === null).length };
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
