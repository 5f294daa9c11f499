// Charts of one step's batch history with uPlot (window.uPlot, served from the package): rows/s over
// time and batch duration, with pauses as shaded bands and retried or failed batches as red marks.
/* global uPlot */

const PAUSE_FILL = 'rgba(230, 160, 30, 0.22)';
const RETRY_STROKE = 'rgba(200, 30, 30, 0.9)';

/** Seconds since the epoch of an entry's start and end. */
function times(entry) {
  const start = Date.parse(entry.startedAt) / 1000;
  return { start, end: start + entry.durationMs / 1000 };
}

/** Rows per second in buckets (about 300 of them at most) over the span of the batches, zero where none ended. */
export function rateSeries(entries) {
  const batches = entries.filter((e) => e.kind === 'batch');
  if (batches.length === 0) return [[], []];
  const first = Math.floor(times(batches[0]).start);
  const last = Math.ceil(Math.max(...batches.map((b) => times(b).end)));
  const bucket = Math.max(1, Math.ceil((last - first) / 300));
  const xs = [];
  const ys = [];
  for (let t = first; t <= last; t += bucket) {
    xs.push(t);
    ys.push(0);
  }
  for (const b of batches) {
    const i = Math.min(xs.length - 1, Math.floor((times(b).end - first) / bucket));
    ys[i] += b.rows / bucket;
  }
  return [xs, ys];
}

/** Batch durations at each batch's start; retried and failed batches also in a series of their own. */
export function durationSeries(entries) {
  const marked = entries.filter((e) => e.kind === 'batch' || e.kind === 'failure');
  return [
    marked.map((e) => times(e).start),
    marked.map((e) => (e.kind === 'batch' ? e.durationMs : null)),
    marked.map((e) => (e.attempts > 1 || e.kind === 'failure' ? e.durationMs : null)),
  ];
}

/** A uPlot plugin drawing pause bands and retry ticks from `marks()` under the series. */
function markersPlugin(marks) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const { ctx, bbox } = u;
          ctx.save();
          for (const pause of marks().pauses) {
            const x0 = Math.max(bbox.left, u.valToPos(pause.start, 'x', true));
            const x1 = Math.min(bbox.left + bbox.width, u.valToPos(pause.end, 'x', true));
            if (x1 <= x0) continue;
            ctx.fillStyle = PAUSE_FILL;
            ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
          }
          ctx.strokeStyle = RETRY_STROKE;
          ctx.lineWidth = 2;
          for (const at of marks().retries) {
            const x = u.valToPos(at, 'x', true);
            if (x < bbox.left || x > bbox.left + bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, bbox.top);
            ctx.lineTo(x, bbox.top + 12);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** Pauses as [start, end] spans and retried/failed batches as times, from the history. */
function marksOf(entries) {
  return {
    pauses: entries.filter((e) => e.kind === 'pause').map(times),
    retries: entries.filter((e) => e.attempts > 1 || e.kind === 'failure').map((e) => times(e).start),
  };
}

/** The two charts of a step, in `container`; `update(entries)` redraws them with the whole history. */
export function createStepCharts(container) {
  container.replaceChildren();
  let entries = [];
  const marks = () => marksOf(entries);
  const width = () => Math.max(300, container.clientWidth - 10);
  const rateHost = document.createElement('div');
  rateHost.id = 'chart-rate';
  const durationHost = document.createElement('div');
  durationHost.id = 'chart-duration';
  container.append(rateHost, durationHost);
  const axes = (label) => [{}, { label, size: 60 }];
  const rate = new uPlot(
    {
      title: 'rows/s (shaded: pauses, red ticks: retries)',
      width: width(),
      height: 200,
      plugins: [markersPlugin(marks)],
      axes: axes('rows/s'),
      series: [{}, { label: 'rows/s', stroke: '#2a6fdb', fill: 'rgba(42, 111, 219, 0.12)', points: { show: false } }],
    },
    [[], []],
    rateHost,
  );
  const duration = new uPlot(
    {
      title: 'batch duration (ms)',
      width: width(),
      height: 200,
      plugins: [markersPlugin(marks)],
      axes: axes('ms'),
      series: [
        {},
        { label: 'duration', stroke: '#555', width: 1, points: { show: true, size: 4 } },
        { label: 'retried / failed', stroke: RETRY_STROKE, width: 0, points: { show: true, size: 8, fill: RETRY_STROKE } },
      ],
    },
    [[], [], []],
    durationHost,
  );
  return {
    update(all) {
      entries = all;
      rate.setData(rateSeries(all));
      duration.setData(durationSeries(all));
    },
    resize() {
      rate.setSize({ width: width(), height: 200 });
      duration.setSize({ width: width(), height: 200 });
    },
    destroy() {
      rate.destroy();
      duration.destroy();
    },
  };
}
