import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { smtpMailer } from '../../src/accounts/mailer.js';
import { loadConfig, ConfigError } from '../../src/config.js';

/** The smallest SMTP server that accepts mail (RFC 5321 §4.3.2 replies), recording each message. */
function fakeSmtpServer(): Promise<{ port: number; messages: { from: string; to: string[]; data: string }[]; close(): Promise<void> }> {
  const messages: { from: string; to: string[]; data: string }[] = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let current = { from: '', to: [] as string[], data: '' };
    socket.write('220 fake.smtp ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += String(chunk);
      let newline: number;
      while ((newline = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push(current);
            current = { from: '', to: [], data: '' };
            socket.write('250 queued\r\n');
          } else current.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-fake.smtp\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') (current.from = line.slice(10).trim()), socket.write('250 ok\r\n');
        else if (verb === 'RCPT') current.to.push(line.slice(8).trim()), socket.write('250 ok\r\n');
        else if (verb === 'DATA') (inData = true), socket.write('354 go on\r\n');
        else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as net.AddressInfo).port, messages, close: () => new Promise((done) => server.close(() => done())) }),
    ),
  );
}

describe('mail over SMTP (FERRY_SMTP_URL, nodemailer)', () => {
  let smtp: Awaited<ReturnType<typeof fakeSmtpServer>>;
  before(async () => {
    smtp = await fakeSmtpServer();
  });
  after(async () => {
    await smtp.close();
  });

  it('sends the sign-in mail through the configured server, from FERRY_MAIL_FROM', async () => {
    const config = loadConfig({ FERRY_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, FERRY_MAIL_FROM: 'Ferry <no-reply@ferry.example>' });
    assert.deepEqual(config.mail, { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: 'Ferry <no-reply@ferry.example>' });
    const mailer = smtpMailer(config.mail.smtpUrl!, config.mail.from);
    assert.equal(mailer.kind, 'smtp');
    await mailer.send({ to: 'reader@example.org', subject: 'Your Ferry code: 123456', text: 'Your code to sign in to Ferry is 123456' });
    assert.equal(smtp.messages.length, 1);
    const [message] = smtp.messages;
    assert.match(message!.from, /no-reply@ferry\.example/);
    assert.deepEqual(message!.to.map((t) => t.replace(/[<>]/g, '').split(' ')[0]), ['reader@example.org']);
    assert.match(message!.data, /^Subject: Your Ferry code: 123456$/m);
    assert.match(message!.data, /Your code to sign in to Ferry is 123456/);
  });

  it('checks the mail settings once, at start', () => {
    assert.deepEqual(loadConfig({ PUBLIC_URL: 'https://ferry.example.com' }).mail, { smtpUrl: null, from: 'Ferry <no-reply@ferry.example.com>' });
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    assert.match(problems({ FERRY_SMTP_URL: 'http://mail.example.com', FERRY_MAIL_FROM: 'a@b.c' }).join(), /FERRY_SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/);
    assert.match(problems({ FERRY_SMTP_URL: 'smtps://u:p@mail.example.com:465' }).join(), /FERRY_MAIL_FROM must be set with FERRY_SMTP_URL/);
    assert.match(problems({ FERRY_MAIL_FROM: 'no address' }).join(), /FERRY_MAIL_FROM must be one address/);
  });
});
