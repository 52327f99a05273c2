import test from 'ava';
import { parseHostSpec } from '../../src/inventory/host-range.ts';

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
