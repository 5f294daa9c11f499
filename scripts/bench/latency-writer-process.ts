import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** What the concurrent writer measured during one run. */
export interface WriterReport {
  readonly writes: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'latency-writer.ts');

/**
 * Starts `latency-writer.ts` in its own process (so the benchmark's own event loop cannot distort the
 * latencies it measures) and resolves once it is connected; `stop()` returns its report.
 */
export async function startLatencyWriter(url: string, table: string, rows: number): Promise<{ stop(): Promise<WriterReport> }> {
  const child = execa('node', ['--import', 'tsx', script, url, table, String(rows)], { stdin: 'pipe', buffer: true, reject: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    void child.then((result) => reject(new Error(`latency writer exited early: ${result.stderr}`)));
  });
  return {
    async stop() {
      child.stdin?.write('stop\n');
      const result = await child;
      const last = String(result.stdout).trim().split('\n').at(-1) ?? '';
      if (result.exitCode !== 0 || !last.startsWith('{')) throw new Error(`latency writer failed: ${result.stderr}`);
      return JSON.parse(last) as WriterReport;
    },
  };
}
