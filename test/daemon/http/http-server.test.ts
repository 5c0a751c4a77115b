import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../src/common/logger.js';
import { createHttpServer, type HttpServer } from '../../../src/daemon/http/http-server.js';
import { rawRequest } from '../../support/raw-http.js';

describe('http server', () => {
  let server: HttpServer;
  let address: string;
  let seen: Buffer | undefined;

  before(async () => {
    server = createHttpServer({ listen: '127.0.0.1:0', logger: silentLogger() });
    server.route('POST', '/echo-size', (req) => {
      seen = req.rawBody;
      return { status: 200, body: String(req.rawBody.length) };
    });
    server.route('POST', '/boom', () => {
      throw new Error('secret detail');
    });
    address = await server.start();
  });
  after(async () => {
    await server.close();
  });

  it('hands the handler the raw body bytes', async () => {
    const res = await fetch(`http://${address}/echo-size`, { method: 'POST', body: 'a=1&b=%20' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '9');
    assert.equal(seen?.toString('utf8'), 'a=1&b=%20');
  });

  it('answers unknown paths 404 and wrong methods 405', async () => {
    const missing = await fetch(`http://${address}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
    const wrong = await fetch(`http://${address}/echo-size`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    await wrong.text();
  });

  it('refuses bodies over 64 KiB with 413, declared or streamed', async () => {
    const declared = await rawRequest(address, `POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 + 1}\r\n\r\n`);
    assert.match(declared, /^HTTP\/1\.1 413 /);
    const chunk = 'x'.repeat(16 * 1024);
    const chunks = Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const streamed = await rawRequest(address, `POST /echo-size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
    assert.match(streamed, /^HTTP\/1\.1 413 /);
    const fits = await fetch(`http://${address}/echo-size`, { method: 'POST', body: 'y'.repeat(64 * 1024) });
    assert.equal(await fits.text(), String(64 * 1024));
  });

  it('survives a throwing handler and garbage on the wire without leaking the error', async () => {
    const res = await fetch(`http://${address}/boom`, { method: 'POST' });
    assert.equal(res.status, 500);
    assert.ok(!(await res.text()).includes('secret detail'));
    const garbage = await rawRequest(address, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    const still = await fetch(`http://${address}/echo-size`, { method: 'POST', body: 'ok' });
    assert.equal(await still.text(), '2');
  });
});
