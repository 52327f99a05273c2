// OpenSSH's sshd announces all its host keys after every login (`hostkeys-00@openssh.com`, for
// clients that rotate keys in known_hosts: UpdateHostKeys). ssh2 answers each announcement by
// asking the server to prove every key (`hostkeys-prove-00@openssh.com`): the host signs with each
// of its keys (RSA among them) and the controller verifies each signature, one more round trip and
// a few ms of CPU on both sides for every connection, only to emit a 'hostkeys' event casfleet never
// listens to (known_hosts is the operator's, and strict checking never rewrites it). The
// announcement is acknowledged and dropped instead; every other global request keeps ssh2's handling.
//
// ssh2 has no option for this: the hook is its protocol's message handler (ssh2 1.17, pinned). When
// that shape is not there (another ssh2), ssh2's own behaviour stays, which is correct, only dearer.

import type { Client } from 'ssh2';

type GlobalRequestHandler = (protocol: { requestSuccess(): void }, name: string, wantReply: boolean, data: unknown) => void;

interface ProtocolInternals {
  _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler };
}

export const HOST_KEYS_NOTICE = 'hostkeys-00@openssh.com';

/** Call right after connect() created the client's protocol, before the login can complete. Returns whether the hook is in place. */
export const ignoreHostKeysNotice = (client: Client): boolean => {
  const handlers = (client as unknown as { _protocol?: ProtocolInternals })._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (protocol, name, wantReply, data) => {
    if (name !== HOST_KEYS_NOTICE) return original(protocol, name, wantReply, data);
    if (wantReply) protocol.requestSuccess();
  };
  return true;
};
