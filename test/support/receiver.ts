// A bare webhook receiver for the emulator's change notifications: real HTTPS on loopback with
// the certificate the emulator's control API hands out. It records what arrives and answers as
// the test says (echo validation, fail, hang, 202).
import Fastify, { type FastifyInstance } from 'fastify';
import type { TestEmulator } from './emulator.js';

export interface Receiver {
  url: string;
  notifications: any[];
  lifecycle: any[];
  validations: number;
  /** How to answer: validation handshakes and notification POSTs. */
  mode: { validation: 'echo' | 'fail' | 'wrong' | 'hang' | 'json'; notify: number | 'hang' };
  close(): Promise<void>;
}

export async function startReceiver(emu: TestEmulator): Promise<Receiver> {
  const cert = await emu.control('/receiver-certificate');
  const app: FastifyInstance = Fastify({ https: { key: cert.keyPem, cert: cert.certPem }, bodyLimit: 16 * 1024 * 1024 });
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_r, b, done) => done(null, b));
  const r: Receiver = { url: '', notifications: [], lifecycle: [], validations: 0, mode: { validation: 'echo', notify: 202 }, close: async () => { await app.close(); } };
  const hang = () => new Promise((res) => setTimeout(res, 12_000).unref());
  for (const path of ['/notify', '/lifecycle']) {
    app.post<{ Querystring: { validationToken?: string } }>(path, async (req, reply) => {
      const token = req.query.validationToken;
      if (token !== undefined) {
        r.validations++;
        const m = r.mode.validation;
        if (m === 'hang') await hang();
        if (m === 'fail') return reply.code(500).send('no');
        if (m === 'json') return reply.code(200).send({ token });
        return reply.code(200).type('text/plain').send(m === 'wrong' ? `${token}x` : token);
      }
      (path === '/notify' ? r.notifications : r.lifecycle).push(req.body);
      if (r.mode.notify === 'hang') await hang();
      return reply.code(r.mode.notify === 'hang' ? 202 : r.mode.notify).send();
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address() as { port: number };
  r.url = `https://127.0.0.1:${addr.port}`;
  return r;
}
