import test from 'ava';
import { createConnector } from '../../src/ssh/connect-ramp.ts';
import type { Connection, ConnectOptions } from '../../src/ssh/connection.ts';

const options = (name: string, signal?: AbortSignal): ConnectOptions => ({
  name,
  host: name,
  port: 22,
  username: 'root',
  knownHostsPaths: [],
  ...(signal ? { signal } : {}),
});

const fakeConnection = (host: string): Connection => ({
  host,
  exec: () => Promise.reject(new Error('fake')),
  close: () => Promise.resolve(),
});

/** A fake connect that records how many handshakes overlap. */
const recordingConnect = (durationMs: number) => {
  const state = { inFlight: 0, peak: 0, calls: 0 };
  const connect = async (o: ConnectOptions): Promise<Connection> => {
    // Like the real connect: an aborted signal fails at once.
    if (o.signal?.aborted) throw new Error(`aborted ${o.name}`);
    state.calls++;
    state.inFlight++;
    state.peak = Math.max(state.peak, state.inFlight);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    state.inFlight--;
    if (o.name.startsWith('bad')) throw new Error(`refused ${o.name}`);
    return fakeConnection(o.name);
  };
  return { state, connect };
};

test('never more than maxHandshakes in flight, whatever the number of callers', async (t) => {
  const { state, connect } = recordingConnect(10);
  const connector = createConnector({ maxHandshakes: 5, connect });
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => connector(options(`cas-${i}`))));
  t.is(state.peak, 5);
  t.is(state.calls, 40);
  t.deepEqual(
    results.map((c) => c.host),
    Array.from({ length: 40 }, (_, i) => `cas-${i}`),
  );
});

test('a failed handshake frees its slot and rejects only its own caller', async (t) => {
  const { state, connect } = recordingConnect(5);
  const connector = createConnector({ maxHandshakes: 2, connect });
  const outcomes = await Promise.allSettled(['bad-1', 'ok-1', 'bad-2', 'ok-2', 'ok-3'].map((n) => connector(options(n))));
  t.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  t.is(state.peak, 2);
});

test('defaults to 32 handshakes in flight', async (t) => {
  const { state, connect } = recordingConnect(10);
  const connector = createConnector({ connect });
  await Promise.all(Array.from({ length: 100 }, (_, i) => connector(options(`cas-${i}`))));
  t.is(state.peak, 32);
});

test('an already aborted connect does not queue behind running handshakes', async (t) => {
  const { connect } = recordingConnect(200);
  const connector = createConnector({ maxHandshakes: 1, connect });
  const busy = connector(options('busy'));
  const started = performance.now();
  await t.throwsAsync(connector(options('aborted', AbortSignal.abort())), { message: 'aborted aborted' });
  t.true(performance.now() - started < 150);
  await busy;
});

test('rejects a nonsensical limit', (t) => {
  t.throws(() => createConnector({ maxHandshakes: 0 }), { instanceOf: RangeError });
});
