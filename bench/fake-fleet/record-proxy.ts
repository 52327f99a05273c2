// Records what a real lab host answers to casfleet: an SSH server on a loopback address of the lab's
// controller namespace that forwards every exec to the real host over one ssh2 client connection and
// appends {command, stdout, stderr, code} (addresses normalised) to the recording it writes on exit.
// Run inside the lab's controller namespace: record-proxy.ts <listen> <host> <controller> <key> <out>
import { readFileSync, writeFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { normalise, type RecordedExec } from './exec-recording.ts';
import { fleetHostKey } from './fleet-keys.ts';

const [listen, host, controller, keyPath, out] = process.argv.slice(2) as [string, string, string, string, string];
const recording: RecordedExec[] = [];
const upstream = new ssh2.Client();
await new Promise<void>((resolve, reject) => {
  upstream.once('ready', () => resolve()).once('error', reject);
  upstream.connect({ host, username: 'root', privateKey: readFileSync(keyPath), readyTimeout: 30_000 });
});

const forward = (command: string, stream: ssh2.ServerChannel): void => {
  upstream.exec(command, (error, channel) => {
    if (error) {
      stream.stderr.write(`record-proxy: ${error.message}\n`);
      stream.exit(255);
      stream.end();
      return;
    }
    let stdout = '';
    let stderr = '';
    let code = 255;
    // A command's stdin (the files a change writes, a held exec's answer) and its end go through to
    // the host, its output back as it comes: a held exec waits for an answer to what it printed.
    stream.pipe(channel);
    channel.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      stream.write(chunk);
    });
    channel.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      stream.stderr.write(chunk);
    });
    channel.on('exit', (status: number | null) => (code = status ?? 255));
    channel.on('close', () => {
      recording.push({
        command: normalise(command, host, controller),
        stdout: normalise(stdout, host, controller),
        stderr: normalise(stderr, host, controller),
        code,
      });
      stream.exit(code);
      stream.end();
    });
  });
};

const server = new ssh2.Server({ hostKeys: [fleetHostKey().privateKey] }, (client) => {
  client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
  client.on('session', (accept) => {
    const session = accept();
    session.on('exec', (acceptExec, _reject, info) => forward(info.command, acceptExec()));
  });
  client.on('error', () => {});
});
server.listen(22, listen, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => {
  writeFileSync(out, `${JSON.stringify(recording, null, 1)}\n`);
  process.exit(0);
});
