import test from 'ava';
import { MAX_HOSTS_PER_ENTRY, parseHostSpec } from '../../src/inventory/host-range.ts';

const expands = test.macro({
  exec(t, text: string, names: readonly string[], port?: number) {
    t.deepEqual(parseHostSpec(text), { ok: true, names, ...(port !== undefined ? { port } : {}) });
  },
  title: (_title, text: string, names: readonly string[], port?: number) =>
    `'${text}' stands for ${names.join(', ')}${port !== undefined ? ` on port ${port}` : ''}`,
});

test(expands, 'cas-01', ['cas-01']);
test(expands, 'cas-[01:03]', ['cas-01', 'cas-02', 'cas-03']);
test(expands, 'cas-[8:10]', ['cas-8', 'cas-9', 'cas-10']);
test(expands, 'cas-[1:10:4]', ['cas-1', 'cas-5', 'cas-9']);
test(expands, 'cas-[:2]', ['cas-0', 'cas-1', 'cas-2']);
test(expands, 'db-[a:c].example.com', ['db-a.example.com', 'db-b.example.com', 'db-c.example.com']);
test(expands, 'r[1:2]-n[a:b]', ['r1-na', 'r1-nb', 'r2-na', 'r2-nb']);
test(expands, 'cas-01:2222', ['cas-01'], 2222);
test(expands, 'cas-[01:02]:2222', ['cas-01', 'cas-02'], 2222);
test(expands, '[2001:db8::1]:2222', ['2001:db8::1'], 2222);
test(expands, 'fe80::1', ['fe80::1']);

const refuses = test.macro({
  exec(t, text: string, message: string) {
    t.deepEqual(parseHostSpec(text), { ok: false, message });
  },
  title: (_title, text: string) => `'${text}' is refused`,
});

test(refuses, 'cas-[05:1]', "host range '[05:1]' must have begin and end of the same width");
test(refuses, 'cas-[5:1]', "host range '[5:1]' must not go backwards");
test(refuses, 'cas-[1:3', "unclosed '[' in host 'cas-[1:3'");
test(refuses, 'cas-[1:]', "host range '[1:]' has no end");
test(refuses, 'cas-[1:3:0]', "host range step '0' must be a positive integer");
test(refuses, 'cas-[a:3]', "host range '[a:3]' must be numbers or single letters");
test(refuses, 'cas-01:ssh', "'cas-01:ssh' is not a host: what follows ':' must be a port number");

test(refuses, 'cas-[0:99999999]', "host 'cas-[0:99999999]' stands for 100000000 hosts; one entry may stand for at most 10000");
test(refuses, 'cas-[1:200000]', "host 'cas-[1:200000]' stands for 200000 hosts; one entry may stand for at most 10000");
test(refuses, 'r[1:200]-n[1:200]', "host 'r[1:200]-n[1:200]' stands for more than 10000 hosts; one entry may stand for at most 10000");

test('a range of exactly the cap expands; a step counts', (t) => {
  const spec = parseHostSpec(`cas-[1:${MAX_HOSTS_PER_ENTRY}]`);
  t.true(spec.ok && spec.names.length === MAX_HOSTS_PER_ENTRY);
  const stepped = parseHostSpec('cas-[0:99998:10]');
  t.true(stepped.ok && stepped.names.length === MAX_HOSTS_PER_ENTRY);
});
