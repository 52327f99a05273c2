// Opens an HTML file in the distribution's Chromium, headless (scripts/install-system-deps.sh
// installs it), and returns what a probe script injected at the end of the page saw: the rendered
// matrix, the results of a few interactions, and every error (uncaught exceptions, console.error,
// Content-Security-Policy violations). The probe is the only thing added to the page; it runs after
// the page's own script, in the same document, and writes its findings into the DOM that
// `--dump-dom` prints.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

export interface MatrixRow {
  readonly hosts: string[];
  readonly scenario: string;
  /** Per port column: [data-state, shown text]. */
  readonly cells: Record<string, [string, string]>;
}

export interface PageProbe {
  readonly errors: string[];
  readonly title: string;
  readonly meta: string;
  readonly columns: string[];
  readonly rows: MatrixRow[];
  /** Rows shown after filtering on each scenario. */
  readonly filtered: Record<string, number>;
  /** First host of each row after clicking the "worst" header once. */
  readonly sortedByWorst: string[];
  /** The details panel's text after clicking each row. */
  readonly details: string[];
}

const PROBE = `
<script>
(function () {
  var errors = window.__probeErrors;
  function rows() {
    return Array.prototype.map.call(document.querySelectorAll('#matrix tbody tr'), function (tr) {
      var cells = {};
      Array.prototype.forEach.call(tr.querySelectorAll('td[data-port]'), function (td) { cells[td.dataset.port] = [td.dataset.state, td.textContent]; });
      return { hosts: tr.dataset.hosts.split(','), scenario: tr.children[1].textContent, cells: cells };
    });
  }
  try {
    var result = { errors: errors, title: document.title, meta: document.getElementById('meta').textContent };
    result.columns = Array.prototype.map.call(document.querySelectorAll('#matrix thead th'), function (th) { return th.textContent; }).slice(4);
    result.rows = rows();
    var select = document.getElementById('f-scenario');
    result.filtered = {};
    ['A', 'B', 'mixed', 'unknown'].forEach(function (s) {
      select.value = s; select.dispatchEvent(new Event('input'));
      result.filtered[s] = document.querySelectorAll('#matrix tbody tr').length;
    });
    select.value = ''; select.dispatchEvent(new Event('input'));
    document.querySelector('#matrix thead th[data-column="worst"]').click();
    result.sortedByWorst = rows().map(function (r) { return r.hosts[0]; });
    result.details = Array.prototype.map.call(document.querySelectorAll('#matrix tbody tr'), function (tr, i) {
      document.querySelectorAll('#matrix tbody tr')[i].click();
      return document.getElementById('details').textContent;
    });
  } catch (e) { errors.push('probe: ' + e.message); }
  var pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(result || { errors: errors });
  document.body.appendChild(pre);
})();
</script>`;

const CAPTURE = `<script>
window.__probeErrors = [];
window.addEventListener('error', function (e) { window.__probeErrors.push('uncaught: ' + e.message); });
document.addEventListener('securitypolicyviolation', function (e) { window.__probeErrors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI); });
var originalError = console.error;
console.error = function () { window.__probeErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); originalError.apply(console, arguments); };
</script>`;

const run = (args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** Flags for a headless, offline, throwaway Chromium. */
export const chromiumFlags = (profile: string): string[] => [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--user-data-dir=${profile}`,
  '--enable-logging=stderr',
  '--v=0',
];

/** Renders `htmlFile` with the probe injected; the console lines Chromium logged are returned too. */
export const probePage = async (htmlFile: string): Promise<PageProbe & { consoleLines: string[] }> => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-chromium-'));
  try {
    const page = join(dir, 'page.html');
    const html = readFileSync(htmlFile, 'utf8');
    // The capture goes first in <head>, the probe after the page's own script.
    writeFileSync(page, html.replace('<head>', `<head>${CAPTURE}`).replace(/<\/body>\s*<\/html>\s*$/, `${PROBE}</body></html>\n`));
    const result = await run([...chromiumFlags(join(dir, 'profile')), '--dump-dom', `file://${page}`], 60_000);
    const match = /<pre id="probe-result">([\s\S]*?)<\/pre>/.exec(result.stdout);
    if (!match) throw new Error(`no probe result from Chromium (exit ${result.code}):\n${result.stderr.slice(-2000)}`);
    const text = match[1]!.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
    const consoleLines = result.stderr.split('\n').filter((line) => /CONSOLE|Uncaught/.test(line));
    return { ...(JSON.parse(text) as PageProbe), consoleLines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** A PNG screenshot of `htmlFile` (optionally with a #fragment) at the given window size. */
export const screenshot = async (htmlFile: string, png: string, size: string, fragment = ''): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-chromium-'));
  try {
    const result = await run(
      [
        ...chromiumFlags(join(dir, 'profile')),
        '--hide-scrollbars',
        `--window-size=${size}`,
        `--screenshot=${png}`,
        `file://${htmlFile}${fragment}`,
      ],
      60_000,
    );
    if (result.code !== 0) throw new Error(`chromium --screenshot exited ${result.code}: ${result.stderr.slice(-1000)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
