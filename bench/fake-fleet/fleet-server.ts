// One fake-fleet process: an ssh2 Server on port 22 of each given address (inside the fleet's
// network namespace), answering every exec from the recording with that host's own addresses.
// A held exec (the gather that waits for casfleet's plan, then runs the changes) is answered whole
// at once, what followed each recorded answer included: the replay takes the decisions the recorded
// run took. Every exec ends once casfleet ends its stdin, as a held one does on a real host.
// fleet-server.ts <recording.json> <address,address,...>; prints "ready" once all listen.
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { ExecRecordingSchema, localise } from './exec-recording.ts';
import { fleetClientKey, fleetHostKey } from './fleet-keys.ts';
import { ReplayCursor } from './replay-cursor.ts';

const [recordingPath, addressList] = process.argv.slice(2) as [string, string];
const recording = ExecRecordingSchema.parse(JSON.parse(readFileSync(recordingPath, 'utf8')));
const hostKey = fleetHostKey().privateKey;
const clientKey = ssh2.utils.parseKey(fleetClientKey().publicKey);
if (clientKey instanceof Error) throw clientKey;
const clientKeyBlob = clientKey.getPublicSSH();

const authenticate = (ctx: ssh2.AuthContext): void => {
  // Without a signature the client only asks whether the key would do.
  const good =
    ctx.method === 'publickey' &&
    ctx.key.data.equals(clientKeyBlob) &&
    (ctx.signature === undefined || clientKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true);
  if (good) ctx.accept();
  else ctx.reject(['publickey']);
};

const serve = (address: string): Promise<void> => {
  const cursor = new ReplayCursor(recording);
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client, info) => {
    client.on('authentication', authenticate);
    client.on('error', () => {});
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, { command }) => {
        const stream = acceptExec();
        const answer = cursor.answer(command);
        if (answer === undefined) {
          stream.stderr.write(`fake fleet: no recorded answer for: ${command.split('\n')[0]}\n`);
          stream.exit(127);
          stream.end();
          return;
        }
        stream.write(localise(answer.stdout, address, info.ip));
        stream.stderr.write(localise(answer.stderr, address, info.ip));
        stream.once('end', () => {
          stream.exit(answer.code);
          stream.end();
        });
        // What casfleet sends (answers, changes, files) is not read: the recording has what followed.
        stream.resume();
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(22, address, () => resolve());
  });
};

await Promise.all(addressList.split(',').map(serve));
process.stdout.write('ready\n');
