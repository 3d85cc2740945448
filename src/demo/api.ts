/** The few HTTP calls the demo's people make, against the running web process. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PublishedSlot {
  id: string;
  centerId: string;
  testType: 'practical' | 'theory';
}

export class Api {
  constructor(private readonly base: string) {}

  private async call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Waits for GET /healthz to answer (the process is up and listening). */
  async waitUntilReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(`${this.base}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the web process did not answer on ${this.base} within ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }

  async login(email: string, password: string): Promise<string> {
    return (await this.call<{ token: string }>('POST', '/api/auth/login', undefined, { email, password })).token;
  }

  async publishSlots(token: string, slots: { specialistId: string; testType: string; startTime: string; endTime: string }[]): Promise<PublishedSlot[]> {
    return (await this.call<{ slots: PublishedSlot[] }>('POST', '/api/operator/slots', token, { slots })).slots;
  }

  async hold(token: string, slotId: string): Promise<{ id: string; expiresAt: string }> {
    return (await this.call<{ appointment: { id: string; expiresAt: string } }>('POST', `/api/slots/${slotId}/hold`, token)).appointment;
  }

  async confirm(token: string, appointmentId: string): Promise<void> {
    await this.call('POST', `/api/appointments/${appointmentId}/confirm`, token);
  }

  async cancel(token: string, appointmentId: string): Promise<void> {
    await this.call('POST', `/api/appointments/${appointmentId}/cancel`, token);
  }
}
