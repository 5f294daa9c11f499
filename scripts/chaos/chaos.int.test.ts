import { describe, expect, it } from '@jest/globals';
import { acquireTestServer } from '@prisma-evolve/testing';
import { runChaos } from './chaos-run.js';

// The small version of `pnpm chaos` (issue 13): kill points are random on every run and printed, so a
// failure can be replayed by rerunning; the script runs the big one (--kills 20 --scale 10).
describe('chaos: run --all SIGKILLed at random points while the application writes', () => {
  it('resumes to the state of a clean run, keeps every committed write, leaves Prisma\'s history clean, and two runners at once do each step once', async () => {
    const server = await acquireTestServer();
    try {
      const report = await runChaos({ serverUrl: server.url, kills: 4, scale: 0.3, seed: 11, log: (line) => process.stderr.write(`chaos: ${line}\n`) });
      expect({ ...report, killPointsMs: undefined, killedAfter: undefined, cleanRunSeconds: undefined, chaosSeconds: undefined, appWrites: undefined, kills: undefined }).toEqual({
        ok: true,
        kills: undefined,
        killPointsMs: undefined,
        killedAfter: undefined,
        cleanRunSeconds: undefined,
        chaosSeconds: undefined,
        appWrites: undefined,
        appErrors: 0,
        unfinishedMigrationRows: 0,
        failedMigrations: [],
        editedMigrations: [],
        phasesNotCompleted: [],
        contentDifferences: [],
        missingWrites: [],
        concurrent: { exitCodes: [0, 0], stepStarts: report.concurrent.cleanStepStarts, cleanStepStarts: report.concurrent.cleanStepStarts, contentDifferences: [] },
      });
      expect(report.kills).toBeGreaterThan(0);
      expect(report.appWrites).toBeGreaterThan(0);
    } finally {
      await server.release();
    }
  });
});
